#!/usr/bin/env bash
# tests/e2e/schema.sh: every example in config/examples and config/examples-v2 passes docs/desired-state.schema.json (and names it in its modeline); valid snippets pass and broken ones fail, in the schema and in `validate` alike.
set -eu
: "${CP_SOURCE_DIR:?CP_SOURCE_DIR must be set (ctest sets it)}"

# Debian's interpreter, so the modules are the packaged python3-jsonschema
# and python3-yaml that scripts/deps.sh installs, whatever python3 comes
# first on PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "FAIL: $PY not found (apt-get install python3)" >&2; exit 1; }

exec "$PY" - "$CP_SOURCE_DIR" <<'EOF'
import json
import os
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    sys.exit("FAIL: %s (install python3-jsonschema and python3-yaml: make deps)" % e)

src = sys.argv[1]


# PyYAML resolves YAML 1.1 timestamps (expires_at: 2027-01-31T00:00:00Z)
# to datetime objects; the provisioner and the YAML language server read
# them as the strings they are (YAML 1.2).
class Loader(yaml.SafeLoader):
    pass


Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_all(text):
    return yaml.load_all(text, Loader=Loader)
schema_path = os.path.join(src, "docs", "desired-state.schema.json")
with open(schema_path) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failures = []


def errors_of(doc):
    return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))


# ---- the examples: valid, and each names the schema for editors
modeline = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)\s*$", re.M)
examples = []
# config/examples (what `make demo` applies) and config/examples-v2 (the
# keys the daemon does not apply yet).
for examples_dir in (os.path.join(src, "config", "examples"),
                     os.path.join(src, "config", "examples-v2")):
    found = 0
    for root, dirs, files in os.walk(examples_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name.endswith((".yaml", ".yml")):
                examples.append(os.path.join(root, name))
                found += 1
    if not found:
        failures.append("no .yaml example found under %s" % examples_dir)

for path in examples:
    rel = os.path.relpath(path, src)
    with open(path) as f:
        text = f.read()
    m = modeline.search(text)
    if m is None:
        failures.append("%s: no '# yaml-language-server: $schema=...' modeline" % rel)
    else:
        target = os.path.normpath(os.path.join(os.path.dirname(path), m.group(1)))
        if target != os.path.normpath(schema_path):
            failures.append("%s: modeline points at %s, not docs/desired-state.schema.json"
                            % (rel, os.path.relpath(target, src)))
    try:
        docs = list(load_all(text))
    except yaml.YAMLError as e:
        failures.append("%s: not YAML: %s" % (rel, e))
        continue
    for i, doc in enumerate(docs):
        for e in errors_of(doc):
            failures.append("%s: document %d at /%s: %s"
                            % (rel, i + 1, "/".join(map(str, e.absolute_path)), e.message))
print("schema: %d example file(s) checked" % len(examples))

# ---- snippets: what must pass and what must fail
VALID = {
    "empty document": "",
    "no projects": "projects: []\n",
    "spec example": """
projects:
  - name: shop
    deployments:
      - {reference: production, type: prod, region: aws-us-east-1, class: s16, default: true, protect: true}
      - {reference: staging, type: dev}
  - name: legacy-tool
    state: absent
""",
    "one default per type": """
projects:
  - name: a
    deployments:
      - {reference: main, type: prod, default: true}
      - {reference: dev/alice, type: dev, default: true}
      - {reference: review-1, type: preview}
      - {reference: old, type: custom, state: absent}
""",
    "absent with empty list": "projects: [{name: gone, state: absent, deployments: []}]\n",
    "default false on preview": "projects: [{name: a, deployments: [{reference: pr-12, type: preview, default: false}]}]\n",
    "100-character reference": "projects: [{name: a, deployments: [{reference: %s, type: dev}]}]\n" % ("a" * 100),
    "name with spaces and unicode": "projects: [{name: 'Shop – Europe', protect: true}]\n",
    # SPEC section 8
    "updates and renames": """
projects:
  - name: shop
    slug: shop-eu
    renamed_from: [web-shop, 'Shop (2023)']
    deployments:
      - reference: production
        type: prod
        dashboard_edit_confirmation: true
        send_logs_to_client: false
        expires_at: never
        renamed_from: main
      - reference: pr/7
        type: preview
        expires_at: 2027-01-31T00:00:00.25+02:00
        renamed_from: [pr-7, pr/seven]
  - name: tools
    renamed_from: utilities
""",
    "expires_at in UTC": "projects: [{name: a, deployments: [{reference: abc, type: dev, expires_at: 2027-01-31T23:59:59Z}]}]\n",
    "one-character slug": "projects: [{name: a, slug: a}]\n",
    # SPEC section 9
    "env, domains and deploy keys": """
projects:
  - name: shop
    env:
      prod:
        SITE_URL: https://shop.example.com
        STRIPE_KEY: {file: secret.txt}
        PORT: 3000
      dev:
        TOKEN: {env: CP_SCHEMA_SNIPPET}
        _LOG_LEVEL: debug
      preview: {}
      custom:
    deployments:
      - reference: production
        type: prod
        domains:
          - domain: api.shop.example.com
            destination: convexCloud
          - {domain: xn--bcher-kva.example, destination: convexSite}
        deploy_keys: [github-actions, ci.nightly_1]
      - {reference: staging, type: dev, domains: [], deploy_keys: []}
""",
    "env null": "projects: [{name: a, env: null}]\n",
}
INVALID = {
    "unknown top-level key": "project: []\n",
    "unknown project key": "projects: [{name: a, deploymnets: []}]\n",
    "unknown deployment key": "projects: [{name: a, deployments: [{reference: abc, type: dev, regoin: x}]}]\n",
    "project without name": "projects: [{state: present}]\n",
    "empty name": "projects: [{name: ''}]\n",
    "name with a control character": 'projects: [{name: "a\\tb"}]\n',
    "name of 129 characters": "projects: [{name: %s}]\n" % ("n" * 129),
    "bad project state": "projects: [{name: a, state: gone}]\n",
    "protect not boolean": "projects: [{name: a, protect: 'yes'}]\n",
    "absent project with deployments": "projects: [{name: a, state: absent, deployments: [{reference: abc, type: dev}]}]\n",
    "deployment without type": "projects: [{name: a, deployments: [{reference: abc}]}]\n",
    "deployment without reference": "projects: [{name: a, deployments: [{type: dev}]}]\n",
    "bad type": "projects: [{name: a, deployments: [{reference: abc, type: staging}]}]\n",
    "reference too short": "projects: [{name: a, deployments: [{reference: ab, type: dev}]}]\n",
    "reference too long": "projects: [{name: a, deployments: [{reference: %s, type: dev}]}]\n" % ("a" * 101),
    "reference with capitals": "projects: [{name: a, deployments: [{reference: Staging, type: dev}]}]\n",
    "reference with underscore": "projects: [{name: a, deployments: [{reference: my_dev, type: dev}]}]\n",
    "reference shaped like a deployment name": "projects: [{name: a, deployments: [{reference: happy-otter-123, type: dev}]}]\n",
    "reference starting local-": "projects: [{name: a, deployments: [{reference: local-alice, type: dev}]}]\n",
    "reserved reference prod": "projects: [{name: a, deployments: [{reference: prod, type: prod}]}]\n",
    "reserved reference deployment": "projects: [{name: a, deployments: [{reference: deployment, type: dev}]}]\n",
    "reserved reference preview": "projects: [{name: a, deployments: [{reference: preview, type: preview}]}]\n",
    "default on preview": "projects: [{name: a, deployments: [{reference: pr-1, type: preview, default: true}]}]\n",
    "default on custom": "projects: [{name: a, deployments: [{reference: abc, type: custom, default: true}]}]\n",
    "two default prod": "projects: [{name: a, deployments: [{reference: one, type: prod, default: true}, {reference: two, type: prod, default: true}]}]\n",
    "two default dev": "projects: [{name: a, deployments: [{reference: one, type: dev, default: true}, {reference: two, type: dev, default: true}]}]\n",
    "region with a space": "projects: [{name: a, deployments: [{reference: abc, type: dev, region: 'aws us'}]}]\n",
    "class not a string": "projects: [{name: a, deployments: [{reference: abc, type: dev, class: 16}]}]\n",
    "bad deployment state": "projects: [{name: a, deployments: [{reference: abc, type: dev, state: deleted}]}]\n",
    "projects not a list": "projects: {name: a}\n",
    "document not a mapping": "- name: a\n",
    # SPEC section 8
    "slug with capitals": "projects: [{name: a, slug: Shop}]\n",
    "slug with two dashes": "projects: [{name: a, slug: a--b}]\n",
    "slug ending with a dash": "projects: [{name: a, slug: shop-}]\n",
    "slug of 61 characters": "projects: [{name: a, slug: %s}]\n" % ("s" * 61),
    "slug on an absent project": "projects: [{name: a, state: absent, slug: a}]\n",
    "renamed_from an empty name": "projects: [{name: a, renamed_from: ''}]\n",
    "renamed_from null": "projects: [{name: a, renamed_from: null}]\n",
    "renamed_from a mapping": "projects: [{name: a, renamed_from: {b: c}}]\n",
    "renamed_from on an absent project": "projects: [{name: a, state: absent, renamed_from: b}]\n",
    "deployment renamed_from a reserved reference": "projects: [{name: a, deployments: [{reference: abc, type: dev, renamed_from: prod}]}]\n",
    "deployment renamed_from a bad reference in a list": "projects: [{name: a, deployments: [{reference: abc, type: dev, renamed_from: [old, Old]}]}]\n",
    "renamed_from on an absent deployment": "projects: [{name: a, deployments: [{reference: abc, type: dev, state: absent, renamed_from: old}]}]\n",
    "expires_at without a time zone": "projects: [{name: a, deployments: [{reference: abc, type: dev, expires_at: '2027-01-31T00:00:00'}]}]\n",
    "expires_at a date only": "projects: [{name: a, deployments: [{reference: abc, type: dev, expires_at: '2027-01-31'}]}]\n",
    "expires_at month 13": "projects: [{name: a, deployments: [{reference: abc, type: dev, expires_at: '2027-13-01T00:00:00Z'}]}]\n",
    "expires_at null": "projects: [{name: a, deployments: [{reference: abc, type: dev, expires_at: null}]}]\n",
    "expires_at on an absent deployment": "projects: [{name: a, deployments: [{reference: abc, type: dev, state: absent, expires_at: never}]}]\n",
    "dashboard_edit_confirmation not boolean": "projects: [{name: a, deployments: [{reference: abc, type: dev, dashboard_edit_confirmation: 'yes'}]}]\n",
    "send_logs_to_client not boolean": "projects: [{name: a, deployments: [{reference: abc, type: dev, send_logs_to_client: 1}]}]\n",
    # SPEC section 9
    "env a list": "projects: [{name: a, env: [prod]}]\n",
    "env of an unknown type": "projects: [{name: a, env: {staging: {A: b}}}]\n",
    "env type a list": "projects: [{name: a, env: {prod: [A]}}]\n",
    "env name starting with a digit": "projects: [{name: a, env: {prod: {1A: b}}}]\n",
    "env name with a dash": "projects: [{name: a, env: {prod: {A-B: b}}}]\n",
    "env name of 41 characters": "projects: [{name: a, env: {prod: {%s: b}}}]\n" % ("A" * 41),
    "env value a boolean": "projects: [{name: a, env: {prod: {A: true}}}]\n",
    "env value null": "projects: [{name: a, env: {prod: {A: null}}}]\n",
    "env value a list": "projects: [{name: a, env: {prod: {A: [b]}}}]\n",
    "env value with file and env": "projects: [{name: a, env: {prod: {A: {file: secret.txt, env: CP_SCHEMA_SNIPPET}}}}]\n",
    "env value with neither": "projects: [{name: a, env: {prod: {A: {}}}}]\n",
    "env value with another key": "projects: [{name: a, env: {prod: {A: {path: x}}}}]\n",
    "env value an empty file": "projects: [{name: a, env: {prod: {A: {file: ''}}}}]\n",
    "env value with = in the variable": "projects: [{name: a, env: {prod: {A: {env: 'A=B'}}}}]\n",
    "env value longer than 8 KiB": "projects: [{name: a, env: {prod: {A: %s}}}]\n" % ("v" * 8193),
    "more than 100 env names": "projects: [{name: a, env: {prod: {%s}}}]\n" % ", ".join("V%d: x" % i for i in range(101)),
    "env on an absent project": "projects: [{name: a, state: absent, env: {prod: {}}}]\n",
    "domains a string": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: a.example.com}]}]\n",
    "domain without destination": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: a.example.com}]}]}]\n",
    "domain without domain": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{destination: convexSite}]}]}]\n",
    "domain with capitals": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: A.example.com, destination: convexSite}]}]}]\n",
    "domain of one label": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: localhost, destination: convexSite}]}]}]\n",
    "domain an IP address": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: 10.0.0.1, destination: convexSite}]}]}]\n",
    "domain with an empty label": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: a..example.com, destination: convexSite}]}]}]\n",
    "domain label ending with a dash": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: a-.example.com, destination: convexSite}]}]}]\n",
    "unknown destination": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: a.example.com, destination: cloud}]}]}]\n",
    "domain with another key": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: a.example.com, destination: convexSite, tls: true}]}]}]\n",
    "the same domain twice": "projects: [{name: a, deployments: [{reference: abc, type: dev, domains: [{domain: a.example.com, destination: convexSite}, {domain: a.example.com, destination: convexCloud}]}]}]\n",
    "domains on an absent deployment": "projects: [{name: a, deployments: [{reference: abc, type: dev, state: absent, domains: []}]}]\n",
    "deploy_keys a string": "projects: [{name: a, deployments: [{reference: abc, type: dev, deploy_keys: ci}]}]\n",
    "deploy key with capitals": "projects: [{name: a, deployments: [{reference: abc, type: dev, deploy_keys: [GitHub]}]}]\n",
    "deploy key starting with a dot": "projects: [{name: a, deployments: [{reference: abc, type: dev, deploy_keys: [.ci]}]}]\n",
    "deploy key with a slash": "projects: [{name: a, deployments: [{reference: abc, type: dev, deploy_keys: [a/b]}]}]\n",
    "deploy key of 65 characters": "projects: [{name: a, deployments: [{reference: abc, type: dev, deploy_keys: [%s]}]}]\n" % ("k" * 65),
    "deploy key named twice": "projects: [{name: a, deployments: [{reference: abc, type: dev, deploy_keys: [ci, ci]}]}]\n",
    "deploy keys on an absent deployment": "projects: [{name: a, deployments: [{reference: abc, type: dev, state: absent, deploy_keys: [ci]}]}]\n",
}

# The environment and the files the snippets' {env:} and {file:} values
# read (validate runs with --strict: a value it cannot read is an error).
SNIPPET_ENV = dict(os.environ, CP_SCHEMA_SNIPPET="from the environment")
SNIPPET_FILES = {"secret.txt": "sk_test_123\n"}

for what, text in VALID.items():
    for doc in load_all(text):
        errs = errors_of(doc)
        if errs:
            failures.append("valid snippet '%s' rejected: %s" % (what, errs[0].message))
# What a schema of one document cannot say (uniqueness of a field across
# the items of a list): only `validate` refuses these, checked below.
LOADER_ONLY = {"the same domain twice"}

for what, text in INVALID.items():
    if what in LOADER_ONLY:
        continue
    docs = list(load_all(text))
    if not any(errors_of(doc) for doc in docs):
        failures.append("invalid snippet '%s' accepted" % what)
print("schema: %d valid and %d invalid snippets checked" % (len(VALID), len(INVALID)))

# ---- the loader agrees: `validate` takes the valid snippets and refuses
# the invalid ones (the schema may only be looser where it cannot see:
# across files, byte lengths). One exception: a plain number where a
# string is wanted (class: 16) is taken as written by the loader, while
# the schema asks the editor for a string.
SCHEMA_ONLY = {"class not a string"}
build = os.environ.get("CP_BUILD_DIR")
binary = os.path.join(build, "convex-provisioner") if build else None
if binary and os.access(binary, os.X_OK):
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        settings = os.path.join(tmp, "settings.yaml")
        open(settings, "w").close()
        for name, text in SNIPPET_FILES.items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        for valid, snippets in ((True, VALID), (False, INVALID)):
            for what, text in snippets.items():
                if what in SCHEMA_ONLY:
                    continue
                path = os.path.join(tmp, "snippet.yaml")
                with open(path, "w") as f:
                    f.write(text)
                r = subprocess.run([binary, "-c", settings, "validate", "--strict", path],
                                   capture_output=True, text=True, cwd=tmp, env=SNIPPET_ENV)
                if (r.returncode == 0) != valid:
                    failures.append("%s snippet '%s': validate exits %d: %s"
                                    % ("valid" if valid else "invalid", what,
                                       r.returncode, r.stderr.strip()))
    print("schema: the same snippets through %s validate" % binary)

for msg in failures:
    print("FAIL: " + msg, file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
