#!/usr/bin/env bash
# The main job on a lab: makes test hosts on this machine (network
# namespaces with real sshd; needs root) and the project's
# Elasticsearch-API test target on the lab's bridge, forms a rally cluster
# with `rally up`, shows `rally status`, races the sample track on the
# cluster's load drivers, and tears it all down again.
# Usage: bash scripts/demo.sh [hosts]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
bash scripts/deps.sh
export CGO_ENABLED=0
mkdir -p bin
go build -trimpath -o bin/rally ./cmd/rally
go build -trimpath -o bin/rally-lab ./cmd/rally-lab
go build -trimpath -o bin/estarget ./cmd/estarget
work=$(mktemp -d /tmp/rally-demo.XXXXXX)
export RALLY_HOME="$work/rally-home"
target_pid=
cleanup() {
  bin/rally down >/dev/null 2>&1 || true
  [ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null
  bin/rally-lab down --dir "$work/lab" || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "== lab: $n test hosts"
bin/rally-lab up -n "$n" --dir "$work/lab"
inv="$work/lab/hosts.yaml"
gateway=$(sed -n 's/.*"gateway": *"\([0-9.]*\)".*/\1/p' "$work/lab/lab.json")
echo "== test target on the lab bridge ($gateway)"
bin/estarget --listen "$gateway:0" --log-level warn >"$work/target.out" &
target_pid=$!
for _ in $(seq 50); do grep -q listening "$work/target.out" && break; sleep 0.1; done
target=$(sed -n 's#.*http://##p' "$work/target.out")
echo "estarget at $target"
echo "== rally up --check"
bin/rally up --check -i "$inv"
echo "== rally up --detach"
bin/rally up --detach -i "$inv"
echo "== rally status"
bin/rally status
echo "== rally race (sample track, clients spread over the load drivers)"
bin/rally race --track-path examples/tracks/tiny --target-hosts "$target"
echo "== rally list races"
bin/rally list races
echo "== rally down"
bin/rally down
echo "demo finished"
