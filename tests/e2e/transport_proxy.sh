#!/usr/bin/env bash
# tests/e2e/transport_proxy.sh: the standard proxy variables work (issue 13, SPEC section 10): HTTPS_PROXY and https_proxy send every request through a CONNECT tunnel that carries only TLS (the proxy never sees the token nor an Authorization header), NO_PROXY bypasses it, and plain http to the loopback never goes through a proxy.
#
# The proxy is tests/support/connect_proxy.py (CONNECT only; anything sent
# to it in clear gets 502), in front of nghttpx (TLS + HTTP/2) and the
# simulator. It logs one JSON line per connection (see its head).
set -eu
CP_TRANSPORT=https
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
. "$CP_SOURCE_DIR/tests/e2e/cp.sh"
command -v python3 >/dev/null || e2e_fail "python3 is needed (make deps)"

# Whatever the host has set must not leak into the runs below.
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

sim_start --seed 21
{
	echo "projects:"
	for i in 1 2 3; do
		printf '  - name: proxied-%d\n    deployments:\n      - reference: production\n        type: prod\n        default: true\n' "$i"
	done
} | desired team.yaml

PLOG=$CP_WORK/proxy.log
: >"$PLOG"
PROXY_WATCH=$SIM_TOKEN python3 "$CP_SOURCE_DIR/tests/support/connect_proxy.py" "$PLOG" \
    >"$CP_WORK/proxy.out" 2>"$CP_WORK/proxy.err" &
PROXY_PID=$!
proxy_stop() {
	if [ -n "$PROXY_PID" ]; then
		kill -TERM "$PROXY_PID" 2>/dev/null || true
		wait "$PROXY_PID" 2>/dev/null || true
		PROXY_PID=
	fi
}
trap 'proxy_stop; cp_cleanup' EXIT
PPORT=$(_wait_port "$PROXY_PID" "$CP_WORK/proxy.out" "connect_proxy.py") || exit 1
PROXY=http://127.0.0.1:$PPORT

# proxy_lines: connections the proxy has logged (each when it ended; the
# provisioner has exited, so give the proxy a moment to see the close).
proxy_lines() {
	local n last=-1
	for _ in $(seq 1 20); do
		n=$(wc -l <"$PLOG" | tr -d ' ')
		[ "$n" = "$last" ] && break
		last=$n
		sleep 0.1
	done
	echo "$n"
}

# with VAR=VALUE... -- ARGS: cp_run with these variables exported for it.
with() {
	local assigns=()
	while [ "$1" != -- ]; do
		assigns+=("$1")
		shift
	done
	shift
	(
		for a in "${assigns[@]}"; do
			export "${a?}"
		done
		cp_run "$@"
		echo "$CP_RC" >"$CP_WORK/rc"
	)
	CP_RC=$(cat "$CP_WORK/rc")
	CP_OUT=$(cat "$CP_WORK/out")
	CP_ERR=$(cat "$CP_WORK/err")
}
expect_rc() {
	[ "$CP_RC" = "$1" ] || { echo "$CP_OUT" >&2; echo "$CP_ERR" >&2; e2e_fail "$2: exit $CP_RC, want $1"; }
}

# 1. HTTPS_PROXY: the converge goes through the proxy, in a tunnel.
with HTTPS_PROXY="$PROXY" -- apply --team 1
expect_rc 0 "apply through HTTPS_PROXY"
assert_eq "$(sim_stats | jq .creates.project)" 3 "projects created through the proxy"
n1=$(proxy_lines)
[ "$n1" -ge 1 ] || e2e_fail "HTTPS_PROXY set, but no connection went through the proxy"
assert_eq "$(jq -r .request "$PLOG" | sort -u)" "CONNECT localhost:$FRONT_PORT HTTP/1.1" "requests the proxy saw"
assert_eq "$(jq -r 'select(.headers | index("authorization")) | .request' "$PLOG" | wc -l)" 0 "CONNECT requests with an Authorization header"
assert_eq "$(jq -r 'select(.watch_seen) | .request' "$PLOG" | wc -l)" 0 "connections where the proxy could read the token"
assert_eq "$(jq -r .first_byte "$PLOG" | sort -u)" 22 "first byte in the tunnel (a TLS handshake record)"
assert_eq "$(awk '$2 != "h2"' "$FRONT_LOG" | wc -l)" 0 "requests without h2 through the tunnel"
echo "HTTPS_PROXY: $n1 tunnel(s) for $(front_requests) requests"

# 2. The lower-case https_proxy too.
with https_proxy="$PROXY" -- plan --team 1
expect_rc 0 "plan through https_proxy"
n2=$(proxy_lines)
[ "$n2" -gt "$n1" ] || e2e_fail "https_proxy set, but no connection went through the proxy"

# 3. NO_PROXY (and no_proxy) naming the host: straight to the server.
with HTTPS_PROXY="$PROXY" NO_PROXY=localhost -- plan --team 1
expect_rc 0 "plan with NO_PROXY=localhost"
with https_proxy="$PROXY" no_proxy=127.0.0.1,localhost -- plan --team 1
expect_rc 0 "plan with no_proxy"
assert_eq "$(proxy_lines)" "$n2" "connections through the proxy with NO_PROXY"

# 4. Plain http (allowed to the loopback only) never goes through a proxy,
# whatever is set: the token would cross it in clear. (connect_proxy.py
# would answer a request in clear with 502, failing the plan.)
url=$SIM_URL
SIM_URL=$SIM_BASE/v1
with http_proxy="$PROXY" HTTPS_PROXY="$PROXY" ALL_PROXY="$PROXY" all_proxy="$PROXY" -- plan --team 1
SIM_URL=$url
expect_rc 0 "plain http plan with every proxy variable set"
assert_eq "$(proxy_lines)" "$n2" "connections through the proxy for plain http"

# 5. A proxy that is not there: the variable is honoured, not bypassed.
dead=$(free_port)
with HTTPS_PROXY="http://127.0.0.1:$dead" -- plan --team 1
expect_rc 1 "plan through a proxy that does not answer"
echo "$CP_ERR$CP_OUT" | grep -q "ConnectionError" || e2e_fail "no connection error through a dead proxy: $CP_ERR"

proxy_stop
sim_stop || e2e_fail "the chain did not stop cleanly"
echo "ok"
