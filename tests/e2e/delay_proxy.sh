#!/usr/bin/env bash
# tests/e2e/delay_proxy.sh: the delaying TCP proxy (tests/support/delay_proxy.c) adds its delay (measured with curl), passes bytes unchanged in both directions with a bounded queue, kills connections as asked, and stops cleanly.
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"
# This script builds its own chains; the plain simulator is the target.
CP_TRANSPORT=http
CP_DELAY_MS=

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cp-dp.XXXXXX")
ECHO_PID=
cleanup() {
	if [ -n "$ECHO_PID" ]; then
		kill "$ECHO_PID" 2>/dev/null || true
		wait "$ECHO_PID" 2>/dev/null || true
		ECHO_PID=
	fi
	sim_stop || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# A TCP echo server (one thread per connection) that waits HOLD seconds
# after accepting before it reads, so the proxy's queue fills first.
cat >"$WORK/echo.py" <<'EOF'
import socket, sys, threading, time
hold = float(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def serve(c):
    time.sleep(hold)
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF

# The client: "bulk PORT N" sends N random bytes while reading the echo and
# prints "same N" or "differ"; "hold PORT READY" sends hello, reads it back,
# creates READY, then waits (10 s at most) and prints how the connection
# ended (reset, eof, timeout); "once PORT N" sends N bytes and prints how
# reading their echo ended (reset, eof, or "echoed").
cat >"$WORK/client.py" <<'EOF'
import hashlib, os, socket, sys, threading
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
def ending():
    try:
        b = s.recv(65536)
        return "eof" if not b else "data"
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "timeout"
if mode == "bulk":
    n = int(sys.argv[3])
    data = os.urandom(n)
    s.settimeout(60)
    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    t.join()
    print("same %d" % len(got) if hashlib.sha256(got).digest() == hashlib.sha256(data).digest() else "differ %d" % len(got))
elif mode == "hold":
    s.sendall(b"hello")
    got = b""
    while len(got) < 5:
        got += s.recv(5 - len(got))
    open(sys.argv[3], "w").close()
    print(ending())
elif mode == "once":
    n = int(sys.argv[3])
    s.sendall(b"x" * n)
    got = 0
    try:
        while got < n:
            b = s.recv(65536)
            if not b:
                print("eof"); sys.exit(0)
            got += len(b)
        print("echoed")
    except ConnectionResetError:
        print("reset")
EOF

# echo_start HOLD: the echo server; its port in ECHO_PORT.
echo_start() {
	rm -f "$WORK/echo.port"
	python3 "$WORK/echo.py" "$WORK/echo.port" "$1" &
	ECHO_PID=$!
	ECHO_PORT=$(_wait_port "$ECHO_PID" "$WORK/echo.port" "the echo server") || exit 1
}
# proxy ARGS...: a fresh delay_proxy (the previous one stopped cleanly).
proxy() {
	dp_stop_checked
	dp_start "$@"
}
dp_stop_checked() {
	if [ -n "$DP_PID" ]; then
		kill -TERM "$DP_PID"
		local rc=0
		wait "$DP_PID" || rc=$?
		[ "$rc" = 0 ] || e2e_fail "delay_proxy exited $rc on SIGTERM, want 0"
		grep -q '^delay_proxy: {"accepted"' "$SIM_DIR/dp.err" || e2e_fail "no stats line on stderr at exit"
		if grep -q -e Sanitizer -e 'runtime error' "$SIM_DIR/dp.err"; then
			cat "$SIM_DIR/dp.err" >&2
			e2e_fail "a sanitizer report from delay_proxy"
		fi
		DP_PID=
	fi
}
ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

sim_start --seed 1
[ -x "$DELAY_PROXY" ] || e2e_fail "no $DELAY_PROXY"

# 1. Bad arguments are refused.
"$DELAY_PROXY" --delay-ms 5 >/dev/null 2>&1 && e2e_fail "no --target accepted"
"$DELAY_PROXY" --target 127.0.0.1:1 --kill-rate 2 >/dev/null 2>&1 && e2e_fail "--kill-rate 2 accepted"
"$DELAY_PROXY" --target nowhere 2>/dev/null && e2e_fail "a target without a port accepted"

# 2. The delay, measured with curl: the first request on a new connection
# pays the TCP handshake (2D) and a round trip (2D), a second one on the
# same connection only the round trip. Lower bounds are the point; the
# upper ones only tell one round trip from two.
D=150
proxy "$SIM_PORT" --delay-ms "$D"
times=$(curl -sS --max-time 20 -o /dev/null -o /dev/null -w '%{time_starttransfer}\n' \
    "http://127.0.0.1:$DP_PORT/_sim/stats" "http://127.0.0.1:$DP_PORT/_sim/stats")
first=$(ms "$(echo "$times" | sed -n 1p)")
second=$(ms "$(echo "$times" | sed -n 2p)")
echo "delay ${D} ms: first request ${first} ms (want >= $((4 * D))), second on the same connection ${second} ms (want >= $((2 * D)))"
[ "$first" -ge $((4 * D)) ] || e2e_fail "first request took $first ms, below 4 x $D"
[ "$first" -lt $((6 * D)) ] || e2e_fail "first request took $first ms, more than 6 x $D"
[ "$second" -ge $((2 * D)) ] || e2e_fail "second request took $second ms, below 2 x $D"
[ "$second" -lt $((4 * D)) ] || e2e_fail "second request took $second ms: more than one round trip"
assert_eq "$(dp_stat accepted)" 1 "connections accepted (curl reused its connection)"
assert_eq "$(dp_stat tls_hellos)" 0 "TLS hellos on plain HTTP"
# The proxy only forwards: what the simulator served came through whole.
body=$(curl -sS --max-time 20 "http://127.0.0.1:$DP_PORT/_sim/state")
assert_eq "$body" "$(sim_state)" "a body through the proxy"

# 3. Bytes unchanged both ways, 4 MiB against a target that reads nothing
# for a second: the queue toward it stays under the cap plus one read.
echo_start 1
proxy "$ECHO_PORT" --delay-ms 5 --max-queue 65536
out=$(python3 "$WORK/client.py" bulk "$DP_PORT" 4194304)
assert_eq "$out" "same 4194304" "4 MiB echoed through the proxy"
stats=$(dp_ctl stats)
echo "after 4 MiB: $stats"
assert_eq "$(echo "$stats" | jq .bytes_up)" 4194304 "bytes to the target"
assert_eq "$(echo "$stats" | jq .bytes_down)" 4194304 "bytes to the client"
[ "$(echo "$stats" | jq .max_queued)" -le $((65536 + 65536)) ] || e2e_fail "queue grew past the cap: $stats"
[ "$(echo "$stats" | jq .max_queued)" -gt 0 ] || e2e_fail "nothing was ever queued: $stats"
assert_eq "$(dp_ctl zero)" ok "zero"
assert_eq "$(dp_stat bytes_up)" 0 "bytes after zero"
assert_eq "$(dp_ctl bogus)" "error: unknown command (stats, kill, zero)" "unknown command"

# 4. The control command kill resets every open connection at once.
kill "$ECHO_PID"; wait "$ECHO_PID" 2>/dev/null || true
echo_start 0
proxy "$ECHO_PORT" --delay-ms 5
python3 "$WORK/client.py" hold "$DP_PORT" "$WORK/ready1" >"$WORK/hold1" &
h1=$!
python3 "$WORK/client.py" hold "$DP_PORT" "$WORK/ready2" >"$WORK/hold2" &
h2=$!
for _ in $(seq 1 100); do
	[ -e "$WORK/ready1" ] && [ -e "$WORK/ready2" ] && break
	sleep 0.1
done
assert_eq "$(dp_stat open)" 2 "open connections before kill"
assert_eq "$(dp_ctl kill)" '{"killed":2}' "kill"
wait "$h1" "$h2"
assert_eq "$(cat "$WORK/hold1") $(cat "$WORK/hold2")" "reset reset" "how the clients' connections ended"
assert_eq "$(dp_stat open) $(dp_stat killed)" "0 2" "open and killed after kill"

# 5. --kill-after-bytes: 600 bytes up, their echo would pass 1000 in all,
# so the echo is not delivered and the client gets RST.
proxy "$ECHO_PORT" --delay-ms 5 --kill-after-bytes 1000
assert_eq "$(python3 "$WORK/client.py" once "$DP_PORT" 600)" reset "600 bytes with a 1000-byte limit"
assert_eq "$(dp_stat bytes_up) $(dp_stat bytes_down) $(dp_stat killed)" "600 0 1" "bytes and kills"
assert_eq "$(python3 "$WORK/client.py" once "$DP_PORT" 400)" echoed "400 bytes with a 1000-byte limit"

# 6. --kill-rate 1 --kill-on down: the request reaches the simulator, its
# answer never comes back (the connection is reset): a create the server
# made whose client cannot know it.
proxy "$SIM_PORT" --delay-ms 5 --kill-rate 1 --kill-on down
rc=0
curl -sS --max-time 20 -o /dev/null -H "Authorization: Bearer $SIM_TOKEN" -H 'Content-Type: application/json' \
    --data-binary '{"projectName":"lost answer"}' "http://127.0.0.1:$DP_PORT/v1/teams/1/create_project" 2>"$WORK/curl.err" || rc=$?
[ "$rc" = 56 ] || [ "$rc" = 52 ] || e2e_fail "curl exit $rc, want a reset (56) or an empty reply (52): $(cat "$WORK/curl.err")"
assert_eq "$(sim_stats | jq .creates.project)" 1 "creates the simulator made"
assert_eq "$(dp_stat killed)" 1 "connections killed"
# --kill-with fin: the same, but the connection is closed, not reset: the
# client reads an empty reply.
proxy "$SIM_PORT" --delay-ms 5 --kill-rate 1 --kill-on down --kill-with fin
rc=0
curl -sS --max-time 20 -o /dev/null -H "Authorization: Bearer $SIM_TOKEN" -H 'Content-Type: application/json' \
    --data-binary '{"projectName":"closed answer"}' "http://127.0.0.1:$DP_PORT/v1/teams/1/create_project" 2>"$WORK/curl.err" || rc=$?
[ "$rc" = 52 ] || e2e_fail "curl exit $rc with --kill-with fin, want an empty reply (52): $(cat "$WORK/curl.err")"
assert_eq "$(sim_stats | jq .creates.project)" 2 "creates the simulator made"
assert_eq "$(dp_stat killed)" 1 "connections killed (fin)"
"$DELAY_PROXY" --target 127.0.0.1:1 --kill-with both >/dev/null 2>&1 && e2e_fail "--kill-with both accepted"
# --kill-on up: the request itself is not delivered.
proxy "$SIM_PORT" --delay-ms 5 --kill-rate 1 --kill-on up
curl -sS --max-time 20 -o /dev/null -H "Authorization: Bearer $SIM_TOKEN" -H 'Content-Type: application/json' \
    --data-binary '{"projectName":"never sent"}' "http://127.0.0.1:$DP_PORT/v1/teams/1/create_project" 2>/dev/null &&
    e2e_fail "a request went through --kill-rate 1 --kill-on up"
assert_eq "$(sim_stats | jq .creates.project)" 2 "creates after a killed request"
# A seeded rate kills some connections and spares others, the same ones
# for the same seed.
# kills SEED: how many of 12 connections were reset, in KILLS (not a
# subshell: the proxy must stay this shell's child).
kills() {
	local i
	KILLS=0
	proxy "$ECHO_PORT" --kill-rate 0.5 --seed "$1"
	for i in $(seq 1 12); do
		if [ "$(python3 "$WORK/client.py" once "$DP_PORT" 100)" = reset ]; then
			KILLS=$((KILLS + 1))
		fi
	done
}
kills 7
k1=$KILLS
kills 7
k2=$KILLS
echo "kill-rate 0.5, seed 7: $k1 of 12 connections reset (again: $k2)"
if [ "$k1" -eq 0 ] || [ "$k1" -eq 12 ]; then
	e2e_fail "kill-rate 0.5 reset $k1 of 12"
fi
assert_eq "$k2" "$k1" "kills with the same seed"

# 7. SIGTERM with a connection open: exit 0 (checked by dp_stop_checked), and the
# client sees its connection closed.
proxy "$ECHO_PORT" --delay-ms 5
python3 "$WORK/client.py" hold "$DP_PORT" "$WORK/ready3" >"$WORK/hold3" &
h3=$!
for _ in $(seq 1 100); do
	[ -e "$WORK/ready3" ] && break
	sleep 0.1
done
assert_eq "$(dp_stat open)" 1 "open connections before SIGTERM"
dp_stop_checked
wait "$h3"
assert_eq "$(cat "$WORK/hold3")" eof "how the client's connection ended at SIGTERM"
sim_stop || e2e_fail "the simulator did not exit cleanly"
trap - EXIT
cleanup
echo "ok"
