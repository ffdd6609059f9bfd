# shellcheck shell=bash
# tests/e2e/lib.sh: bash helpers for end-to-end scripts (start/stop convex-api-sim, call it with curl, assert).
#
# Usage in a script run by ctest (add_script_test gives CP_BUILD_DIR and
# CP_SOURCE_DIR):
#   . "$CP_SOURCE_DIR/tests/e2e/lib.sh"
#   sim_start --seed 7 --error-rate 0.1   # sets SIM_PORT SIM_BASE SIM_URL SIM_TOKEN SIM_PID
#   sim_post /teams/1/create_project '{"projectName":"shop"}'
#   sim_stats | jq .total
# sim_start installs an EXIT trap that stops the simulator, unless the
# script has one already: that one must call sim_stop.
#
# The transport (issue 13, SPEC section 10; docs/testing.md), chosen by the
# environment of the script:
#   CP_TRANSPORT=http (default)  the provisioner talks plain HTTP/1.1 to the
#                                simulator on 127.0.0.1.
#   CP_TRANSPORT=https           sim_start also starts nghttpx (Debian package
#                                nghttp2-proxy) in front of the simulator: TLS
#                                with a CA and a certificate for localhost and
#                                127.0.0.1 made in the simulator's temp folder,
#                                ALPN h2 and http/1.1. SIM_URL is then
#                                https://localhost:PORT/v1 and SIM_CA_FILE the
#                                CA (cp.sh and daemon_lib.sh pass it as
#                                --ca-file; the helpers below give it to curl).
#   CP_DELAY_MS=N                a delay_proxy (tests/support/delay_proxy.c)
#                                in front of it all (of nghttpx with https, so
#                                the handshakes pay the delay): N ms one way
#                                per chunk, 2N per round trip. SIM_URL points
#                                at the proxy.
# Whatever the transport, SIM_BASE is the simulator itself
# (http://127.0.0.1:SIM_PORT): the admin routes /_sim/* never go through the
# front or the proxy, so they add no request, connection or delay there.
# After sim_start with https: FRONT_PORT, FRONT_LOG (nghttpx's access log,
# one line per request, see front_log below); with a delay: DP_PORT, DP_CTL
# (the proxy's control port, see dp_ctl below).

: "${CP_BUILD_DIR:?CP_BUILD_DIR must be set (ctest sets it)}"

SIM_PID=
SIM_PORT=
SIM_BASE=
SIM_URL=
SIM_TOKEN=sim-token
SIM_DIR=
SIM_CA_FILE=
FRONT_PID=
FRONT_PORT=
FRONT_LOG=
DP_PID=
DP_PORT=
DP_CTL=
CP_TRANSPORT=${CP_TRANSPORT:-http}
CP_DELAY_MS=${CP_DELAY_MS:-}
DELAY_PROXY=${DELAY_PROXY:-$CP_BUILD_DIR/tests/delay_proxy}

e2e_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# assert_eq GOT WANT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || e2e_fail "${3:-value}: got '$1', want '$2'"
}

# _wait_port PID FILE WHAT: waits (30 s at most) for a port on FILE's first
# line, written by PID; prints it.
_wait_port() {
	local pid=$1 file=$2 what=$3 port i
	for i in $(seq 1 300); do
		port=$(head -n 1 "$file" 2>/dev/null || true)
		case $port in
		[0-9]*) echo "$port"; return 0 ;;
		esac
		kill -0 "$pid" 2>/dev/null || e2e_fail "$what exited before printing its port"
		sleep 0.1
	done
	e2e_fail "$what printed no port within 30 s"
}

# sim_start [ARGS...]: starts "$CP_BUILD_DIR/convex-api-sim --port 0 ARGS",
# waits (30 s at most) for the port on its first stdout line; then the front
# and the proxy that CP_TRANSPORT and CP_DELAY_MS ask for.
sim_start() {
	local bin="$CP_BUILD_DIR/convex-api-sim" i port prev=
	[ -x "$bin" ] || e2e_fail "no simulator at $bin"
	case $CP_TRANSPORT in
	http | https) ;;
	*) e2e_fail "CP_TRANSPORT is '$CP_TRANSPORT': http or https" ;;
	esac
	for i in "$@"; do
		[ "$prev" = "--token" ] && SIM_TOKEN=$i
		prev=$i
	done
	SIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cp-sim.XXXXXX")
	"$bin" --port 0 "$@" >"$SIM_DIR/stdout" 2>"$SIM_DIR/stderr" &
	SIM_PID=$!
	# Keep a script's own EXIT trap (which calls sim_stop itself).
	[ -n "$(trap -p EXIT)" ] || trap sim_stop EXIT
	for i in $(seq 1 300); do
		port=$(head -n 1 "$SIM_DIR/stdout" 2>/dev/null || true)
		case $port in
		[0-9]*) break ;;
		esac
		kill -0 "$SIM_PID" 2>/dev/null || { cat "$SIM_DIR/stderr" >&2; e2e_fail "simulator exited before printing its port"; }
		sleep 0.1
	done
	case $port in
	[0-9]*) ;;
	*) e2e_fail "simulator printed no port within 30 s" ;;
	esac
	SIM_PORT=$port
	SIM_BASE=http://127.0.0.1:$SIM_PORT
	SIM_URL=$SIM_BASE/v1
	SIM_CA_FILE=
	local host=127.0.0.1 scheme=http up=$SIM_PORT
	if [ "$CP_TRANSPORT" = https ]; then
		front_start "$SIM_PORT"
		host=localhost scheme=https up=$FRONT_PORT
		SIM_URL=https://localhost:$FRONT_PORT/v1
	fi
	if [ -n "$CP_DELAY_MS" ]; then
		dp_start "$up" --delay-ms "$CP_DELAY_MS"
		SIM_URL=$scheme://$host:$DP_PORT/v1
	fi
	export SIM_PORT SIM_BASE SIM_URL SIM_TOKEN SIM_CA_FILE
}

# tls_make_ca DIR: a CA (DIR/ca.pem) and a server certificate for localhost
# and 127.0.0.1 (DIR/server.pem, DIR/server.key) signed by it, P-256, valid
# two days; made anew by every test, never committed.
tls_make_ca() {
	local d=$1
	command -v openssl >/dev/null || e2e_fail "openssl is needed for https (make deps)"
	printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
	    'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
	    'extendedKeyUsage=serverAuth' >"$d/server.ext"
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj /CN=convex-provisioner-test-ca \
		    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$d/server.key" -out "$d/server.csr" -subj /CN=localhost &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		    -CAcreateserial -out "$d/server.pem" -days 2 -extfile "$d/server.ext"
	} >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; e2e_fail "openssl could not make the test CA"; }
}

# free_port: a port that was free on 127.0.0.1 a moment ago (nghttpx takes
# no port 0); front_start retries when another process took it meanwhile.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The access log: one line per request, fields separated by spaces:
#   1 the connection: CLIENT_ADDR:CLIENT_PORT/TLS_SESSION_ID (the session id
#     is drawn anew by every full TLS 1.3 handshake)
#   2 ALPN (h2 or http/1.1)  3 TLS version  4 r for a resumed session, or .
#   5 method  6 path  7 HTTP version  8 status  9 seconds spent
# shellcheck disable=SC2016 # nghttpx's variables, not the shell's
FRONT_LOG_FORMAT='$remote_addr:$remote_port/$tls_session_id $alpn $tls_protocol $tls_session_reused $method $path $protocol_version $status $request_time'

# front_start BACKEND_PORT: nghttpx on 127.0.0.1:FRONT_PORT, TLS with a
# fresh CA (SIM_CA_FILE), in front of 127.0.0.1:BACKEND_PORT (HTTP/1.1, as
# many connections as it needs). Its own limits are set wide (ten-minute
# backend reads, 1024 streams per connection) so that it never answers in
# the simulator's place; it adds no request of its own and never retries one
# the simulator has received (the simulator's dropped connections become 502
# answers). Logs in SIM_DIR: front-access.log, front-error.log.
front_start() {
	local backend=$1 d="$SIM_DIR/tls" try
	command -v nghttpx >/dev/null || e2e_fail "nghttpx is needed for CP_TRANSPORT=https (Debian package nghttp2-proxy; make deps)"
	mkdir -p "$d"
	tls_make_ca "$d"
	SIM_CA_FILE=$d/ca.pem
	FRONT_LOG=$SIM_DIR/front-access.log
	for try in 1 2 3 4 5; do
		FRONT_PORT=$(free_port) || e2e_fail "no free port for nghttpx"
		: >"$SIM_DIR/front-error.log"
		nghttpx --conf=/dev/null --single-process --workers=1 \
		    --frontend="127.0.0.1,$FRONT_PORT" --backend="127.0.0.1,$backend;;proto=http/1.1" \
		    --no-via --no-server-rewrite --no-ocsp --no-add-x-forwarded-proto \
		    --backend-read-timeout=10m --backend-write-timeout=10m \
		    --frontend-read-timeout=10m --frontend-write-timeout=10m \
		    --frontend-http2-read-timeout=10m --frontend-keep-alive-timeout=10m \
		    --frontend-http2-max-concurrent-streams=1024 \
		    --accesslog-file="$FRONT_LOG" --accesslog-format="$FRONT_LOG_FORMAT" \
		    --errorlog-file="$SIM_DIR/front-error.log" \
		    "$d/server.key" "$d/server.pem" >/dev/null 2>&1 &
		FRONT_PID=$!
		for _ in $(seq 1 300); do
			grep -q 'Created worker thread' "$SIM_DIR/front-error.log" 2>/dev/null &&
			    grep -q "Listening on 127.0.0.1:$FRONT_PORT" "$SIM_DIR/front-error.log" && return 0
			kill -0 "$FRONT_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$FRONT_PID" 2>/dev/null
		wait "$FRONT_PID" 2>/dev/null
		FRONT_PID=
		grep -q -e 'bind' -e 'Address already in use' -e 'Listening.*failed' "$SIM_DIR/front-error.log" || break
	done
	cat "$SIM_DIR/front-error.log" >&2
	e2e_fail "nghttpx did not start (try $try)"
}

# front_log: nghttpx's access log so far (FRONT_LOG_FORMAT).
front_log() { cat "$FRONT_LOG"; }
# front_requests: requests nghttpx answered; front_connections: the TLS
# connections they came on; front_alpn: "COUNT ALPN" lines.
front_requests() { wc -l <"$FRONT_LOG" | tr -d ' '; }
front_connections() { awk '{ print $1 }' "$FRONT_LOG" | sort -u | wc -l | tr -d ' '; }
front_alpn() { awk '{ print $2 }' "$FRONT_LOG" | sort | uniq -c | awk '{ print $1, $2 }'; }

# front_check: every request through the front used HTTP/2 (ALPN h2), and
# there was at least one, so a script run with CP_TRANSPORT=https really
# tested that transport. sim_stop calls it, also from an EXIT trap (where
# its failure still fails the script).
front_check() {
	local n other
	n=$(front_requests)
	other=$(awk '$2 != "h2"' "$FRONT_LOG" | head -n 3)
	echo "https: $n requests through nghttpx on $(front_connections) TLS connections" >&2
	[ "$n" -gt 0 ] || e2e_fail "CP_TRANSPORT=https but no request went through nghttpx"
	[ -z "$other" ] || e2e_fail "requests without HTTP/2 in nghttpx's log: $other"
}

# dp_start TARGET_PORT ARGS...: a delay_proxy on 127.0.0.1:DP_PORT in front
# of 127.0.0.1:TARGET_PORT with ARGS (--delay-ms N, --kill-...); its
# control port in DP_CTL.
dp_start() {
	local target=$1
	shift
	[ -x "$DELAY_PROXY" ] || e2e_fail "no delay proxy at $DELAY_PROXY"
	# The old file goes first: the child truncates it only once it runs, so
	# a quick look could read the previous proxy's port.
	rm -f "$SIM_DIR/dp.out"
	"$DELAY_PROXY" --target "127.0.0.1:$target" "$@" >"$SIM_DIR/dp.out" 2>"$SIM_DIR/dp.err" &
	DP_PID=$!
	DP_PORT=$(_wait_port "$DP_PID" "$SIM_DIR/dp.out" "delay_proxy") || exit 1
	for _ in $(seq 1 100); do
		DP_CTL=$(sed -n 2p "$SIM_DIR/dp.out")
		[ -n "$DP_CTL" ] && break
		sleep 0.05
	done
	[ -n "$DP_CTL" ] || e2e_fail "delay_proxy printed no control port"
}

# dp_stop: SIGTERM and wait; returns the proxy's exit code (0 = clean; it
# prints its counters on stderr, $SIM_DIR/dp.err).
dp_stop() {
	local rc=0
	if [ -n "$DP_PID" ]; then
		kill -TERM "$DP_PID" 2>/dev/null || true
		wait "$DP_PID" 2>/dev/null || rc=$?
		DP_PID=
	fi
	return $rc
}

# front_stop: SIGTERM nghttpx and wait, then front_check.
front_stop() {
	if [ -n "$FRONT_PID" ]; then
		kill -TERM "$FRONT_PID" 2>/dev/null || true
		wait "$FRONT_PID" 2>/dev/null || true
		FRONT_PID=
		front_check
	fi
}

# dp_ctl COMMAND: one command on the proxy's control port (stats, kill,
# zero); prints the answer line. dp_stat FIELD: one counter of stats
# (accepted, open, failed, killed, bytes_up, bytes_down, tls_hellos,
# max_queued).
dp_ctl() {
	local line
	exec 9<>"/dev/tcp/127.0.0.1/$DP_CTL" || e2e_fail "cannot reach the delay proxy's control port"
	echo "$1" >&9
	IFS= read -r -t 10 line <&9 || e2e_fail "no answer to '$1' from the delay proxy"
	exec 9<&- 9>&-
	echo "$line"
}
dp_stat() { dp_ctl stats | jq -r ".$1"; }

# sim_stop: stops the proxy, the front and the simulator (SIGTERM, wait);
# returns the simulator's exit code, or the proxy's (0 = both clean).
sim_stop() {
	local rc=0 dprc=0
	dp_stop || { dprc=$?; cat "$SIM_DIR/dp.err" >&2; }
	front_stop
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" || rc=$?
		SIM_PID=
	fi
	if [ -n "$SIM_DIR" ]; then
		[ $rc -ne 0 ] && cat "$SIM_DIR/stderr" >&2
		rm -rf "$SIM_DIR"
		SIM_DIR=
	fi
	[ $rc -ne 0 ] || rc=$dprc
	return $rc
}

# sim_log: prints what the simulator wrote on stderr so far.
sim_log() {
	[ -n "$SIM_DIR" ] && cat "$SIM_DIR/stderr"
}

_sim_curl() {
	curl -sS --max-time 60 ${SIM_CA_FILE:+--cacert "$SIM_CA_FILE"} \
	    -H "Authorization: Bearer $SIM_TOKEN" -H 'Content-Type: application/json' "$@"
}

# sim_get PATH: body of GET $SIM_URL/PATH on stdout (PATH starts with /).
sim_get() { _sim_curl "$SIM_URL$1"; }
# sim_post PATH [JSON]
sim_post() { _sim_curl -X POST --data-binary "${2:-}" "$SIM_URL$1"; }
# sim_patch PATH JSON
sim_patch() { _sim_curl -X PATCH --data-binary "$2" "$SIM_URL$1"; }
# sim_status METHOD PATH [JSON]: prints only the HTTP status code.
sim_status() {
	if [ $# -ge 3 ]; then
		_sim_curl -o /dev/null -w '%{http_code}' -X "$1" --data-binary "$3" "$SIM_URL$2"
	else
		_sim_curl -o /dev/null -w '%{http_code}' -X "$1" "$SIM_URL$2"
	fi
}

# Admin routes (never faulted, no token).
sim_stats() { curl -sS --max-time 60 "$SIM_BASE/_sim/stats"; }
sim_state() { curl -sS --max-time 60 "$SIM_BASE/_sim/state"; }
# sim_reset [JSON]: empty team (or the given state), counters zero.
sim_reset() { curl -sS --max-time 60 -X POST --data-binary "${1:-}" "$SIM_BASE/_sim/reset" >/dev/null; }
# sim_load_state FILE: replaces the state with FILE's JSON.
sim_load_state() { curl -sS --max-time 60 -X POST --data-binary "@$1" "$SIM_BASE/_sim/state" >/dev/null; }
# sim_seed PROJECTS [DEPLOYMENTS_PER_PROJECT] [PREFIX]: bulk-creates directly.
sim_seed() {
	curl -sS --max-time 120 -X POST \
	    --data-binary "{\"projects\":$1,\"deploymentsPerProject\":${2:-0},\"prefix\":\"${3:-p}\"}" \
	    "$SIM_BASE/_sim/seed" >/dev/null
}
