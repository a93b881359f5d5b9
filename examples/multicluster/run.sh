#!/usr/bin/env bash
# Runs the multi-cluster example on this machine: a management plane, two "clusters"
# (east in eu/a, west in us/b), each with a cluster agent and a demo upstream, and one
# managed gateway in each. See README.md. Ctrl-C stops everything.
#
#   PORTICO=path/to/portico examples/multicluster/run.sh
#
# The portico binary is $PORTICO, or .build/debug/portico. Logs, tokens, caches and the
# plane's database go to a new temporary folder, printed at start and kept at the end.
set -euo pipefail

example="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
portico="${PORTICO:-.build/debug/portico}"
if [[ "$portico" != /* && -x "$PWD/$portico" ]]; then portico="$PWD/$portico"; fi
if ! command -v "$portico" >/dev/null 2>&1; then
  echo "no portico binary at '$portico': build it (swift build) or set PORTICO" >&2
  exit 1
fi

api=127.0.0.1:9900
relay=127.0.0.1:9977
work="$(mktemp -d "${TMPDIR:-/tmp}/portico-multicluster.XXXXXX")"
pids=()

stop() {
  trap - EXIT INT TERM
  echo
  echo "stopping..."
  local index
  for ((index = ${#pids[@]} - 1; index >= 0; index--)); do
    kill "${pids[index]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; logs and state are in $work"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs a command in the background, its output in NAME.log and its
# process id in NAME.pid.
start() {
  local name="$1"
  shift
  (cd "$work" && exec "$@") >"$work/$name.log" 2>&1 &
  pids+=("$!")
  echo "$!" >"$work/$name.pid"
}

# wait_for WHAT COMMAND...: retries a command for up to 30 seconds.
wait_for() {
  local what="$1"
  shift
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $what; see the logs in $work" >&2
  exit 1
}

echo "working folder: $work"

# 1. The management plane: the SQLite store and the data folder in the working folder.
start mgmt "$portico" mgmt --store sqlite:plane.db --data-dir data --listen "$api" --relay "$relay"
wait_for "the management plane" curl -sf "http://$api/healthz"
echo "management plane: API on $api, relay on $relay"

# 2. One demo upstream and one cluster agent per cluster. Each agent reports the Service
#    and Endpoints manifests of its cluster's folder, stamped with the cluster's name and
#    locality.
start east-upstream "$portico" demo-upstream --port 9201 --name east
start west-upstream "$portico" demo-upstream --port 9202 --name west
#    Each reads its cluster's gateway's admin listener (started below) to report
#    the health of its endpoints as that gateway sees them.
for cluster in east:eu/a:9911 west:us/b:9912; do
  IFS=: read -r name locality admin <<<"$cluster"
  start "$name-agent" "$portico" agent --mgmt "$relay" --relay-ca data/relay-ca.pem \
    --token-file data/bootstrap-token --cluster "$name" --locality "$locality" \
    --watch "$example/clusters/$name" --cache-dir "agent-$name" --gateway-admin "127.0.0.1:$admin"
done
plane=(--server "http://$api" --data-dir "$work/data")
# Both clusters' Endpoints shop/shop are on the plane.
registries_reported() {
  [[ "$("$portico" get endpoints -n shop "${plane[@]}" | awk '$2 == "shop"' | wc -l)" == 2 ]]
}
wait_for "both clusters' registries" registries_reported

# 3. The resources every gateway serves.
"$portico" apply -f "$example/plane" "${plane[@]}"

# 4. One managed gateway per cluster, each with its own locality.
for gateway in east:eu/a:8081:9911:15443 west:us/b:8082:9912:15444; do
  IFS=: read -r name locality port admin eastwest <<<"$gateway"
  start "$name-gateway" "$portico" gateway --mgmt "$relay" --relay-ca data/relay-ca.pem \
    --token-file data/bootstrap-token --cache-dir "cache-$name" \
    --name "$name" --namespace portico --cluster "$name" --label gateway=edge \
    --locality "$locality" --port "http=$port" --admin "127.0.0.1:$admin" --east-west "$eastwest" \
    --access-log "$name-access.log"
done
# answers_from PORT NAME: the gateway on PORT answers from the upstream NAME.
answers_from() { curl -sf "localhost:$1/" | grep -q "\"server\":\"$2\""; }
wait_for "the east gateway" answers_from 8081 east
wait_for "the west gateway" answers_from 8082 west
# The west cluster's shop by name, from the east gateway: a federated Service.
west_by_name() { curl -sf -H 'host: west.shop.local' localhost:8081/ | grep -q '"server":"west"'; }
wait_for "the west shop by name, from the east gateway" west_by_name

echo
"$portico" status "${plane[@]}"
cat <<EOF

Ready. From another terminal:

  curl -s localhost:8081/ | grep -o '"server":"[a-z]*"'    # the east gateway: "server":"east"
  curl -s localhost:8082/ | grep -o '"server":"[a-z]*"'    # the west gateway: "server":"west"

Stop the east upstream, and the east gateway fails over to the west cluster:

  kill \$(cat $work/east-upstream.pid)
  curl -s localhost:8081/ | grep -o '"server":"[a-z]*"'    # now "server":"west"

  $portico status --data-dir $work/data                   # cluster east: ejected: shop/shop 127.0.0.1:9201

The west cluster's shop by name, from the east gateway, through the west's east-west
gateway (a federated Service):

  curl -s -H 'host: west.shop.local' localhost:8081/ | grep -o '"server":"[a-z]*"'   # "server":"west"

Start it again, and the east gateway takes its traffic back once the endpoint's
ejection has ended (5s the first time, 10s the second):

  $portico demo-upstream --port 9201 --name east

The plane, with its admin token:

  $portico get virtualdestinations -n shop --data-dir $work/data
  $portico get endpoints --data-dir $work/data
  $portico status --data-dir $work/data

Logs: $work/*.log. Ctrl-C stops everything.
EOF

wait
