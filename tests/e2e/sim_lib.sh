#!/usr/bin/env bash
# tests/e2e/sim_lib.sh: the e2e helpers in lib.sh drive the simulator (start, calls, stats, seed, reset, clean stop).
set -eu
. "$CP_SOURCE_DIR/tests/e2e/lib.sh"

sim_start --seed 11 --team-id 41
case ${CP_TRANSPORT:-http}:$SIM_URL in
http:http://127.0.0.1:*/v1) ;;
https:https://localhost:*/v1)
	[ -s "$SIM_CA_FILE" ] || e2e_fail "no CA file with https"
	# Verified against the test's CA (no -k anywhere), negotiated h2.
	assert_eq "$(curl -sS --cacert "$SIM_CA_FILE" -o /dev/null -w '%{http_version}' \
	    -H "Authorization: Bearer $SIM_TOKEN" "$SIM_URL/token_details")" 2 "HTTP version"
	curl -sS -o /dev/null "$SIM_URL/token_details" 2>/dev/null &&
	    e2e_fail "the front's certificate passed without the test's CA"
	;;
*) e2e_fail "SIM_URL is $SIM_URL with CP_TRANSPORT=${CP_TRANSPORT:-http}" ;;
esac
case $SIM_BASE in
http://127.0.0.1:"$SIM_PORT") ;;
*) e2e_fail "SIM_BASE is $SIM_BASE" ;;
esac
assert_eq "$(sim_get /token_details | jq -r .teamId)" 41 "teamId"
assert_eq "$(sim_status GET /teams/41/projects)" 200 "list status"
assert_eq "$(sim_status GET /teams/1/projects)" 404 "other team"

id=$(sim_post /teams/41/create_project '{"projectName":"e2e shop","deploymentType":"prod"}' | jq -r .id)
[ "$id" -gt 0 ] || e2e_fail "no project id"
dep=$(sim_post "/projects/$id/create_deployment" '{"type":"dev","reference":"staging"}' | jq -r .name)
assert_eq "$(sim_get "/deployments/$dep" | jq -r .reference)" staging "reference"
assert_eq "$(sim_status PATCH "/deployments/$dep" '{"class":"s256"}')" 200 "patch"
assert_eq "$(sim_get "/deployments/$dep" | jq -r .class)" s256 "class"
assert_eq "$(sim_status POST /teams/41/create_project '{"projectName":')" 400 "bad json"

stats=$(sim_stats)
assert_eq "$(echo "$stats" | jq '.creates.project')" 1 "creates.project"
assert_eq "$(echo "$stats" | jq '.creates.deployment')" 2 "creates.deployment"
assert_eq "$(echo "$stats" | jq '.requests["POST /teams/{team}/create_project"]["400"]')" 1 "400 count"

if [ "${CP_TRANSPORT:-http}" = https ]; then
	# Every /v1 call of this script went through nghttpx, and it added
	# none: its log has exactly the simulator's total (the admin routes go
	# to the simulator directly and are not counted).
	assert_eq "$(front_requests)" "$(sim_stats | jq .total)" "requests in nghttpx's log"
	assert_eq "$(front_alpn)" "$(front_requests) h2" "ALPN of every request"
fi

sim_seed 120 2 bulk
assert_eq "$(sim_state | jq '.projects | length')" 121 "projects after seed"
assert_eq "$(sim_get '/teams/41/projects?limit=100' | jq .pagination.hasMore)" true "hasMore"

sim_reset
assert_eq "$(sim_state | jq '.projects | length')" 0 "projects after reset"
assert_eq "$(sim_stats | jq .total)" 0 "total after reset"

state=$(mktemp)
echo '{"projects":[{"id":9,"name":"from file"}]}' >"$state"
sim_load_state "$state"
rm -f "$state"
assert_eq "$(sim_get /projects/9 | jq -r .name)" "from file" "loaded state"

sim_stop || e2e_fail "simulator did not exit cleanly"
pgrep -P $$ nghttpx >/dev/null && e2e_fail "nghttpx still runs after sim_stop"
trap - EXIT
echo "ok"
