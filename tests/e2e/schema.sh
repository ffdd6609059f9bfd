# tests/e2e/schema.sh: every example in config/examples passes docs/desired-state.schema.json (and names it in its modeline); broken snippets fail.
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
examples_dir = os.path.join(src, "config", "examples")
examples = []
for root, dirs, files in os.walk(examples_dir):
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    for name in sorted(files):
        if not name.startswith(".") and name.endswith((".yaml", ".yml")):
            examples.append(os.path.join(root, name))
if not examples:
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
        docs = list(yaml.safe_load_all(text))
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
}

for what, text in VALID.items():
    for doc in yaml.safe_load_all(text):
        errs = errors_of(doc)
        if errs:
            failures.append("valid snippet '%s' rejected: %s" % (what, errs[0].message))
for what, text in INVALID.items():
    docs = list(yaml.safe_load_all(text))
    if not any(errors_of(doc) for doc in docs):
        failures.append("invalid snippet '%s' accepted" % what)
print("schema: %d valid and %d invalid snippets checked" % (len(VALID), len(INVALID)))

for msg in failures:
    print("FAIL: " + msg, file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
