#!/usr/bin/env bash
# The main job on a lab: makes test hosts on this machine (network
# namespaces with real sshd; needs root), fetches a real OpenSearch 2.19.1
# with Maven's own client (cached in ~/.m2), forms a rally cluster with
# `rally up`: load-driver hosts, and provisioner hosts where rally installs
# and starts the OpenSearch nodes from the distribution and a car; shows
# the engine's own view of its nodes, races a track with a corpus from the
# load drivers against those nodes, and tears it all down again.
# Usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/engines.sh opensearch:2.19.1
zip="$HOME/.m2/repository/org/opensearch/distribution/integ-test-zip/opensearch/2.19.1/opensearch-2.19.1.zip"
export CGO_ENABLED=0
mkdir -p bin
go build -trimpath -ldflags='-s -w' -o bin/rally ./cmd/rally
go build -trimpath -o bin/rally-lab ./cmd/rally-lab
work=$(mktemp -d /tmp/rally-demo.XXXXXX)
export RALLY_HOME="$work/rally-home"
cleanup() {
  bin/rally down >/dev/null 2>&1 || true
  bin/rally-lab down --dir "$work/lab" || true
  rm -rf "$work"
}
trap cleanup EXIT

# A node whose transport binds a network address (a cluster across hosts)
# must pass the engines' bootstrap checks, among them an open-files limit
# of 65535. Where this user's hard limit is lower and cannot be raised,
# the cluster's two nodes share one provisioner host and talk over its
# loopback interface instead; load still crosses the lab network.
if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 65535 ]; then
  lab=(-n 4 --provisioners 2 --nodes 1)
  echo "== lab: 2 load drivers, 2 provisioner hosts with one node each"
else
  lab=(-n 3 --provisioners 1 --nodes 2)
  echo "== lab: 2 load drivers, 1 provisioner host with two nodes"
  echo "   (the hard open-files limit here is $(ulimit -Hn), below the 65535 a node on the network needs)"
fi
bin/rally-lab up "${lab[@]}" --run-as rally-node --dir "$work/lab"
inv="$work/lab/hosts.yaml"
echo "== rally up --check"
bin/rally up --check -i "$inv"
echo "== rally up --detach --distribution-path opensearch-2.19.1.zip --car defaults,1gheap"
bin/rally up --detach -i "$inv" --distribution-path "$zip" --car defaults,1gheap
echo "== rally status"
bin/rally status
node=$(bin/rally status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["http"])')
echo "== the engine's own view: GET http://$node/_cat/nodes"
curl -sf "http://$node/_cat/nodes?v&h=name,ip,heap.max,node.role,cluster_manager"
echo "== rally race (a track with a 1000-document corpus, clients spread over the load drivers)"
bin/rally race --track-path e2e/testdata/tracks/engine
echo "== GET http://$node/_count"
curl -sf "http://$node/_count"
echo
echo "== rally down"
bin/rally down
echo "== what is left on the hosts"
for h in $(sed -n 's/^ *- name: \(h[0-9]*\)$/\1/p' "$inv"); do
  left=$(bin/rally-lab exec --dir "$work/lab" "$h" -- sh -c 'ls -A /root/.rally /tmp/rally-nodes 2>/dev/null; pgrep -a java' || true)
  echo "$h: ${left:-nothing}"
done
echo "demo finished"
