# shellcheck shell=bash
# tests/e2e/cp.sh: helpers to run convex-provisioner against the simulator
# started by lib.sh's sim_start. Source lib.sh first.

CP_BIN="$CP_BUILD_DIR/convex-provisioner"
CP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/cp-e2e.XXXXXX")
CP_DESIRED="$CP_WORK/desired"
CP_STATE="$CP_WORK/state"
mkdir -p "$CP_DESIRED" "$CP_STATE"
# An empty settings file so a host's /etc/convex-provisioner never leaks in.
: >"$CP_WORK/config.yaml"

cp_cleanup() {
	sim_stop || true
	rm -rf "$CP_WORK"
}
trap cp_cleanup EXIT

# cp_run ARGS...: runs the provisioner against the simulator, with the token
# in the environment (never in argv). Output in $CP_OUT / $CP_ERR, exit code
# in $CP_RC; never fails the script by itself.
cp_run() {
	CP_RC=0
	# CP_WRAP (make memcheck) runs the provisioner under valgrind.
	CONVEX_ACCESS_TOKEN=$SIM_TOKEN ${CP_WRAP:-} "$CP_BIN" -c "$CP_WORK/config.yaml" \
	    --api-url "$SIM_URL" ${SIM_CA_FILE:+--ca-file "$SIM_CA_FILE"} \
	    --desired "$CP_DESIRED" --state-dir "$CP_STATE" \
	    "$@" >"$CP_WORK/out" 2>"$CP_WORK/err" || CP_RC=$?
	CP_OUT=$(cat "$CP_WORK/out")
	CP_ERR=$(cat "$CP_WORK/err")
}

# cp_expect RC ARGS...: cp_run, and fail unless it exits with RC.
cp_expect() {
	local want=$1
	shift
	cp_run "$@"
	if [ "$CP_RC" != "$want" ]; then
		echo "--- stdout" >&2; echo "$CP_OUT" >&2
		echo "--- stderr" >&2; echo "$CP_ERR" >&2
		e2e_fail "convex-provisioner $*: exit $CP_RC, want $want"
	fi
}

# desired NAME <<EOF ... : writes a desired-state file.
desired() {
	mkdir -p "$(dirname "$CP_DESIRED/$1")"
	cat >"$CP_DESIRED/$1"
}

# fixture NAME [DEST]: copies tests/fixtures/desired/NAME into the desired
# folder as DEST (default NAME); the files several scripts share.
fixture() {
	desired "${2:-$1}" <"$CP_SOURCE_DIR/tests/fixtures/desired/$1"
}

# Counts in the simulator's state.
live_projects() { sim_state | jq '[.projects[]] | length'; }
live_projects_named() { sim_state | jq --arg n "$1" '[.projects[] | select(.name == $n)] | length'; }
live_deployments() { sim_state | jq '[.deployments[] | select(.kind == "cloud")] | length'; }
# duplicate_names: how many project names occur more than once.
duplicate_names() { sim_state | jq '[.projects[].name] | group_by(.) | map(select(length > 1)) | length'; }
json_field() { echo "$CP_OUT" | jq -r "$1"; }
