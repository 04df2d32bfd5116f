#!/usr/bin/env bash
# Prints rally's performance figures: the load driver's hot path (ops/s per
# core and allocations per request, fasthttp against net/http), bulk body
# building and response scanning, metric recording and delta encoding,
# actor frames, the terminal UI under an event storm, worker pushes, and
# `rally up`/`rally down` on 1, 4 and 8 lab hosts (needs root).
# Usage: bash bench/run.sh [quick]   (quick: fewer iterations)
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-}
bt=1s; ut=3x
if [ "$time" = quick ]; then bt=200ms; ut=1x; fi
run() { echo "== $1"; shift; go test -run '^$' "$@" | grep -E '^(Benchmark|ok|FAIL|---)|up \(with upload\)' ; }
run "driver: request loop, bulk bodies, bulk responses" -bench 'HotPath|BulkBody|BulkResponseScan' -benchmem -benchtime "$bt" ./driver/
run "metrics: record, flush, encode, merge" -bench 'Record|Flush|DeltaEncode|DecodeDelta|AggregatorAdd' -benchmem -benchtime "$bt" ./metrics/
run "actor: frames" -bench 'Frame' -benchmem -benchtime "$bt" ./actor/
run "tui: 100 members, 1000 events/s" -bench 'Stream' -benchtime 150x ./tui/
run "estarget: requests" -bench 'Root|BulkSmall|SearchTiny' -benchmem -benchtime "$bt" ./estarget/
run "payload: push 20 MiB over sshd" -bench 'Push' -benchtime 3x ./payload/
run "track: load" -bench 'Load' -benchmem -benchtime "$bt" ./track/
run "rally up / down on lab hosts" -bench 'UpDown' -benchtime "$ut" -timeout 20m ./e2e/
