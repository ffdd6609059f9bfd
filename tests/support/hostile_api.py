#!/usr/bin/env python3
"""hostile_api.py: a Management API that answers what a hostile or broken
server would, for the end-to-end tests of issue 18 (tests/e2e/hostile.sh).

    hostile_api.py --scenario NAME --log FILE

Listens on 127.0.0.1 (a free port, printed alone as the first line of
stdout), team 1. Every request is appended to FILE as "METHOD TARGET".
Creates and deletes answer success (and are logged), so a test can tell
what the client would have done. Scenarios (the item lists are the raw
JSON the server sends, so names can hold what a JSON string can):

  nul-name      one project named "shop\\u0000-prod-db" (cJSON cuts it to
                "shop"), one "keep"
  c1-name       projects named "shop\\u009b2J" (C1 CSI as UTF-8), one with a
                raw 0x9b byte, one with a raw ESC; a deployment reference
                with U+0085
  dup-page      projects: page 1 [shop(11), old(12)], page 2 [old(12),
                new(13)] (one id on two pages); deployments the same way
  dup-legacy    an older API (no team deployments route): the per-project
                listings of shop(11) and other(12) both hold deployment 101
  dup-legacy-differ  the same, but 101 differs between the two listings
  endless       every projects page: the same two items, hasMore true, a
                fresh cursor each time, forever
  echo-token    every request: 401 with the bearer token echoed in the
                message (and a non-JSON 502 on deletes)
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs


def project(pid, name_json):
    return ('{"id":%d,"name":%s,"slug":"p%d","teamId":1,"teamSlug":"t",'
            '"createTime":1700000000000}' % (pid, name_json, pid))


def deployment(did, pid, name, ref_json):
    return ('{"kind":"cloud","id":%d,"name":"%s","projectId":%d,'
            '"deploymentType":"dev","reference":%s,"region":"aws-us-east-1",'
            '"class":"s16","isDefault":false,"createTime":1}'
            % (did, name, pid, ref_json))


def page(items, more=False, cursor=None):
    return ('{"items":[%s],"pagination":{"hasMore":%s,"nextCursor":%s}}'
            % (",".join(items), "true" if more else "false",
               json.dumps(cursor))).encode("latin-1")


class State:
    def __init__(self, scenario, log):
        self.scenario = scenario
        self.log = log
        self.lock = threading.Lock()
        self.counter = 0
        self.next_id = 5000


def answer_for(st, method, path, query, auth):
    """(status, headers, body bytes)"""
    sc = st.scenario
    cursor = query.get("cursor", [None])[0]
    if sc == "echo-token":
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else auth
        if method == "POST" and path.endswith("/delete"):
            return 502, {"Content-Type": "text/html"}, (
                "<html>proxy error for %s</html>" % token).encode()
        return 401, {}, json.dumps({
            "code": "Unauthorized",
            "message": "invalid token %s (Authorization: %s)" % (token, auth),
        }).encode()
    if method == "POST" and path.endswith("/create_project"):
        with st.lock:
            st.next_id += 1
            pid = st.next_id
        return 200, {}, ('{"id":%d,"projectId":%d,"slug":"p%d"}'
                         % (pid, pid, pid)).encode()
    if method == "POST" and path.endswith("/create_deployment"):
        with st.lock:
            st.next_id += 1
            did = st.next_id
        return 200, {}, deployment(did, 1, "new-dep-%d" % did,
                                   '"r%d"' % did).encode()
    if method == "POST" and path.endswith("/delete"):
        return 200, {}, b""
    if path == "/v1/teams/1/projects":
        if sc == "nul-name":
            return 200, {}, page([project(11, '"shop\\u0000-prod-db"'),
                                  project(12, '"keep"')])
        if sc == "c1-name":
            return 200, {}, page([
                project(11, '"shop\\u009b2J"'),
                project(12, '"raw\x9bbyte"'),
                project(13, '"esc\\u001b[31mred"'),
            ])
        if sc == "dup-page":
            if cursor is None:
                return 200, {}, page([project(11, '"shop"'),
                                      project(12, '"old"')], True, "p2")
            return 200, {}, page([project(12, '"old"'),
                                  project(13, '"new"')])
        if sc.startswith("dup-legacy"):
            return 200, {}, page([project(11, '"shop"'), project(12, '"other"')])
        if sc == "endless":
            with st.lock:
                st.counter += 1
                n = st.counter
            return 200, {}, page([project(11, '"shop"'),
                                  project(12, '"old"')], True, "c%d" % n)
        return 200, {}, page([])
    if path == "/v1/teams/1/list_deployments" and sc.startswith("dup-legacy"):
        return 404, {}, b'{"code":"NotFound","message":"no such route"}'
    if path == "/v1/teams/1/list_deployments":
        if sc == "c1-name":
            return 200, {}, page([deployment(101, 11, "happy-otter-1",
                                             '"st\\u0085aging"')])
        if sc == "dup-page":
            if cursor is None:
                return 200, {}, page([
                    deployment(101, 11, "happy-otter-1", '"staging"'),
                    deployment(102, 11, "happy-otter-2", '"old"')], True, "d2")
            return 200, {}, page([
                deployment(102, 11, "happy-otter-2", '"old"')])
        return 200, {}, page([])
    if sc.startswith("dup-legacy") and path.startswith("/v1/projects/") \
            and path.endswith("/list_deployments"):
        ref = '"st"'
        if sc == "dup-legacy-differ" and path == "/v1/projects/12/list_deployments":
            ref = '"other-ref"'
        return 200, {}, ("[%s]" % deployment(101, 11, "happy-otter-1", ref)).encode()
    if path == "/v1/token_details":
        return 200, {}, b'{"type":"teamToken","teamId":1,"name":"t"}'
    return 404, {}, b'{"code":"NotFound","message":"no such route"}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        st = self.server.st
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with st.lock:
            with open(st.log, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))
        url = urlsplit(self.path)
        status, headers, body = answer_for(
            st, self.command, url.path, parse_qs(url.query),
            self.headers.get("Authorization", ""))
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.st = State(args.scenario, args.log)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
