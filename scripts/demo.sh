#!/usr/bin/env bash
# make demo: starts the bundled Convex API simulator on loopback and runs the
# provisioner against it with config/examples/: validate, plan, apply, and a
# second plan that has nothing to do. Starts and stops everything itself.
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
bin=$build/convex-provisioner
sim=$build/convex-api-sim

work=$(mktemp -d "${TMPDIR:-/tmp}/cp-demo.XXXXXX")
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Runs the provisioner against the simulator; the token travels in the
# environment, never on the command line.
provision() {
	CONVEX_ACCESS_TOKEN=demo-token "$bin" -c "$work/config.yaml" \
	    --api-url "http://127.0.0.1:$port/v1" --desired config/examples \
	    --state-dir "$work/state" "$@"
}

: >"$work/config.yaml"
"$sim" --port 0 --token demo-token --team-id 1 --latency 5 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 100); do
	port=$(head -n 1 "$work/sim.out" 2>/dev/null || true)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$work/sim.err" >&2; echo "demo: the simulator did not start" >&2; exit 1; }
echo "convex-api-sim listening on 127.0.0.1:$port (team 1, empty)"

step "validate config/examples"
"$bin" -c "$work/config.yaml" validate config/examples

step "plan: what would change (exit 2: changes pending)"
rc=0; provision plan || rc=$?
[ $rc -eq 2 ] || { echo "demo: plan exited $rc, expected 2" >&2; exit 1; }

step "apply: make the team match the files"
provision apply

step "plan again: nothing to do (exit 0)"
provision plan

step "the ledger of what the provisioner created ($work/state/ledger.json)"
jq -c '.projects[], .deployments[]' "$work/state/ledger.json" 2>/dev/null || cat "$work/state/ledger.json"

step "requests the simulator served"
curl -s "http://127.0.0.1:$port/_sim/stats" | jq -c '.requests' 2>/dev/null || true
echo
echo "demo finished: plan -> apply -> empty plan against the simulator"
