#!/usr/bin/env bash
# The main job on a lab: makes 3 test hosts on this machine (network
# namespaces with real sshd; needs root), forms a rally cluster on them
# with `rally up`, shows `rally status`, and tears it all down again.
# Usage: bash scripts/demo.sh [hosts]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
bash scripts/deps.sh
export CGO_ENABLED=0
mkdir -p bin
go build -trimpath -o bin/rally ./cmd/rally
go build -trimpath -o bin/rally-lab ./cmd/rally-lab
work=$(mktemp -d /tmp/rally-demo.XXXXXX)
export RALLY_HOME="$work/rally-home"
cleanup() {
  bin/rally down --cluster "$(sed -n 's/^cluster: *//p' "$work/lab/hosts.yaml" 2>/dev/null)" >/dev/null 2>&1 || true
  bin/rally-lab down --dir "$work/lab" || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "== lab: $n test hosts"
bin/rally-lab up -n "$n" --dir "$work/lab"
inv="$work/lab/hosts.yaml"
echo "== rally up --check"
bin/rally up --check -i "$inv"
echo "== rally up --detach"
bin/rally up --detach -i "$inv"
echo "== rally status"
bin/rally status
echo "== rally down"
bin/rally down
echo "demo finished"
