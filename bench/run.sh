#!/usr/bin/env bash
# rally's performance suite: rally side by side with wrk, vegeta and hey on
# one no-op target, plus the coordinator and bring-up benchmarks. A
# benchmark: it prints figures and never fails on a number (a tool or a
# section that fails is named in the results and makes the exit status 1).
#
# What it runs (bash bench/run.sh):
#   - the target: nginx (one worker, pinned to CPU 0 with taskset, access
#     log off) on 127.0.0.1 from an nginx.conf generated in a temporary
#     directory, answering as an Elasticsearch node that holds nothing:
#     GET / the root document with X-Elastic-Product, /<index>/_search a
#     small fixed search response, /_bulk and /<index>/_bulk
#     {"took":1,"errors":false,"items":[]}, anything else {}.
#   - each load driver pinned to CPU 1 (taskset -c 1: one core, so the Go
#     tools run with GOMAXPROCS 1), under bench/run/rusage.py: CPU is user
#     + system time of its whole process tree from the reaped child's
#     rusage (wait4: exact, in microseconds, start-up included), peak RSS
#     its largest resident set; its throughput and latency from its own
#     report (rally's JSON report, with schedule lag where rally reports
#     it; wrk --latency; vegeta report -type=json; hey's summary).
#   - the cases, repeated (BENCH_REPS, 3) with the tools interleaved one
#     after the other within each repetition, every run bounded in time:
#       closed loop, 8 and 64 connections: rally, wrk, vegeta, hey
#         (the track's search, GET /noop/_search with a match_all body);
#       throttled 5,000 and 20,000 ops/s over 50 and 500 clients: rally,
#         vegeta (service time, latency, schedule lag, CPU per request);
#       bulk: rally indexes a generated, decompressed corpus (BENCH_DOCS,
#         100,000 web-log-like documents, read BENCH_BULK_PASSES times,
#         10, as that many files of the corpus, so that a run lasts
#         seconds) in bulks of 1,000 from 8 clients; wrk sends the first
#         1,000 as one fixed bulk body;
#       memory: rally with 100, 1,000 and 10,000 clients at 1 op/s each;
#     then, with go test: `rally up`/`down` cold and warm on 1, 8 and 40
#     lab hosts (e2e/updown_bench_test.go; needs root and the lab) and the
#     coordinator with 100 and 500 simulated members
#     (race/members_bench_test.go).
#   - rally races bench/noop/track.json (track parameters size each case).
# Output: bench/results/run-<date>.md, one markdown table per case (median
# [min–max] of the repetitions per figure and tool, and the ratios rally /
# peer), also printed; the raw outputs stay in bench/results/run-<date>.logs.
#
# Installs what is missing: wrk and nginx with apt-get (as root); vegeta and
# hey at the pinned versions below with `go install` into the cache
# directory's gobin; rally is built with CGO_ENABLED=0 into the cache.
#
# Usage: bash bench/run.sh [quick]        the side-by-side suite
#        bash bench/run.sh micro [quick]  the micro-benchmarks (go test -bench
#                                         of the hot paths), as before
# quick shortens everything: 2 repetitions of 2 s runs, 20,000 documents
# read twice, 3 s memory runs, up/down on 1 host and 100 members once with
# a 3 s race.
# Settings (environment): BENCH_REPS (3), BENCH_SECONDS (s per run, 10),
# BENCH_DOCS (100000), BENCH_BULK_PASSES (10), BENCH_RSS_SECONDS (10),
# BENCH_UPDOWN (the -bench pattern, 'UpDown/hosts=(1|8|40)$'),
# BENCH_UPDOWN_COUNT (3), BENCH_MEMBERS (the -bench pattern,
# 'Members/members=(100|500)$'), BENCH_MEMBERS_COUNT (3),
# BENCH_MEMBERS_PERIOD (10s), BENCH_CACHE (~/.cache/rally-bench),
# BENCH_CASES (an extended regular expression: only the cases whose names
# match run; the names are closed-8, closed-64, throttled-RATE-CLIENTS,
# bulk, rss-CLIENTS, updown, members, forty; with it set the tables go to
# bench/results/cases-<date>.md, so a partial run never replaces the full
# one).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

VEGETA_VERSION=v12.13.0
HEY_VERSION=v0.1.5

mode=suite quick=
for arg in "$@"; do
  case $arg in
    micro) mode=micro ;;
    quick) quick=1 ;;
    *) echo "usage: bash bench/run.sh [micro] [quick]" >&2; exit 2 ;;
  esac
done

# ---- micro: the hot paths' go benchmarks
if [ "$mode" = micro ]; then
  bt=1s; ut=3x
  if [ -n "$quick" ]; then bt=200ms; ut=1x; fi
  run() { echo "== $1"; shift; go test -run '^$' "$@" | grep -E '^(Benchmark|ok|FAIL|---)|first up' ; }
  run "driver: request loop, bulk bodies, bulk responses" -bench 'HotPath|BulkBody|BulkResponseScan' -benchmem -benchtime "$bt" ./driver/
  run "metrics: record, flush, encode, merge" -bench 'Record|Flush|DeltaEncode|DecodeDelta|AggregatorAdd' -benchmem -benchtime "$bt" ./metrics/
  run "actor: frames" -bench 'Frame' -benchmem -benchtime "$bt" ./actor/
  run "tui: 100 members, 1000 events/s" -bench 'Stream' -benchtime 150x ./tui/
  run "estarget: requests" -bench 'Root|BulkSmall|SearchTiny' -benchmem -benchtime "$bt" ./estarget/
  run "payload: push 20 MiB over sshd" -bench 'Push' -benchtime 3x ./payload/
  run "track: load" -bench 'Load' -benchmem -benchtime "$bt" ./track/
  run "rally up / down on lab hosts" -bench 'UpDown' -benchtime "$ut" -timeout 20m ./e2e/
  exit 0
fi

# ---- the suite
t0=$(date +%s)
cases=${BENCH_CASES:-}
want() { [ -z "$cases" ] || grep -Eq -- "^($cases)\$" <<<"$1"; }
log() { echo "bench: $*" >&2; }
if [ -n "$quick" ]; then
  reps=${BENCH_REPS:-2} secs=${BENCH_SECONDS:-2} docs=${BENCH_DOCS:-20000} passes=${BENCH_BULK_PASSES:-2}
  rss_secs=${BENCH_RSS_SECONDS:-3}
  updown=${BENCH_UPDOWN:-'UpDown/hosts=1$'} updown_count=${BENCH_UPDOWN_COUNT:-1}
  members=${BENCH_MEMBERS:-'Members/members=100$'} members_count=${BENCH_MEMBERS_COUNT:-1}
  members_period=${BENCH_MEMBERS_PERIOD:-3s}
else
  reps=${BENCH_REPS:-3} secs=${BENCH_SECONDS:-10} docs=${BENCH_DOCS:-100000} passes=${BENCH_BULK_PASSES:-10}
  rss_secs=${BENCH_RSS_SECONDS:-10}
  updown=${BENCH_UPDOWN:-'UpDown/hosts=(1|8|40)$'} updown_count=${BENCH_UPDOWN_COUNT:-3}
  members=${BENCH_MEMBERS:-'Members/members=(100|500)$'} members_count=${BENCH_MEMBERS_COUNT:-3}
  members_period=${BENCH_MEMBERS_PERIOD:-10s}
fi
cache=${BENCH_CACHE:-$HOME/.cache/rally-bench}
gobin=$cache/gobin
mkdir -p "$cache" "$gobin"

# Two CPUs to pin to: the target on 0, the load drivers on 1.
for cpu in 0 1; do
  taskset -c "$cpu" true 2>/dev/null || { log "cannot pin to CPU $cpu (taskset -c $cpu): the suite needs CPUs 0 and 1"; exit 1; }
done

# ---- install what is missing
apt_install() { # apt_install COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || { log "$1 is missing: install the Debian package $2 (apt-get needs root)"; exit 1; }
  log "installing $2 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }
}
PATH=$PATH:/usr/sbin
apt_install wrk wrk
apt_install nginx nginx
go_install() { # go_install BINARY MODULE VERSION
  if [ "$(cat "$gobin/.$1" 2>/dev/null)" != "$2@$3" ] || [ ! -x "$gobin/$1" ]; then
    log "installing $2@$3 into $gobin"
    GOBIN=$gobin CGO_ENABLED=0 go install "$2@$3"
    echo "$2@$3" >"$gobin/.$1"
  fi
}
go_install vegeta github.com/tsenart/vegeta/v12 "$VEGETA_VERSION"
go_install hey github.com/rakyll/hey "$HEY_VERSION"
vegeta=$gobin/vegeta hey=$gobin/hey
log "building rally (CGO_ENABLED=0)"
rally=$cache/rally
CGO_ENABLED=0 go build -o "$rally" ./cmd/rally

# ---- the work directory, the corpus, the target
date=$(date -u +%Y-%m-%d)
work=$(mktemp -d /tmp/rally-bench.XXXXXX)
res=$work/results
mkdir -p "$res" "$work/nginx" "$work/rally-home"
nginx_pid=
stop_nginx() {
  [ -n "$nginx_pid" ] || return 0
  kill -QUIT "$nginx_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$nginx_pid" 2>/dev/null || true
  nginx_pid=
}
cleanup() { stop_nginx; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'log "line $LINENO failed: $BASH_COMMAND"' ERR

corpus=$cache/corpus-$docs.json
if [ ! -s "$corpus" ] || [ ! -s "$corpus.meta" ]; then
  log "generating $docs documents"
  python3 bench/peers/corpus.py "$docs" "$corpus.tmp" >"$corpus.meta.tmp"
  mv "$corpus.tmp" "$corpus" && mv "$corpus.meta.tmp" "$corpus.meta"
fi
read -r corpus_docs corpus_bytes <"$corpus.meta"
bulk_track=$work/bulk-track
mkdir -p "$bulk_track"
cp bench/noop/track.json "$bulk_track/"
for i in $(seq 0 $((passes - 1))); do ln -s "$corpus" "$bulk_track/documents-$i.json"; done
# wrk's bulk body: the corpus's first 1,000 documents as one bulk request.
head -n 1000 "$corpus" | sed 's/^/{"index":{"_index":"noop"}}\n/' >"$work/bulk-body.ndjson"
cat >"$work/bulk.lua" <<EOF
-- wrk script written by bench/run.sh: one fixed bulk body.
local f = assert(io.open("$work/bulk-body.ndjson", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
EOF
printf '%s' '{"query":{"match_all":{}}}' >"$work/search-body.json"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target=127.0.0.1:$port
printf 'GET http://%s/noop/_search\nContent-Type: application/json\n@%s\n' "$target" "$work/search-body.json" >"$work/vegeta-targets.txt"
ngx=$work/nginx
cat >"$ngx/nginx.conf" <<EOF
# written by bench/run.sh: a no-op Elasticsearch target
worker_processes 1;
worker_rlimit_nofile 65536;
daemon on;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 32768; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $ngx/body;
  proxy_temp_path $ngx/proxy;
  fastcgi_temp_path $ngx/fastcgi;
  uwsgi_temp_path $ngx/uwsgi;
  scgi_temp_path $ngx/scgi;
  client_max_body_size 0;
  keepalive_requests 4294967295;
  keepalive_timeout 600s;
  default_type application/json;
  server {
    listen $target backlog=65535;
    add_header X-Elastic-Product Elasticsearch always;
    location = / {
      return 200 '{"name":"noop","cluster_name":"noop","cluster_uuid":"bench-noop-target","version":{"number":"8.17.0","build_flavor":"default","build_type":"tar","build_hash":"0","build_date":"2024-12-11T12:08:05.663969764Z","build_snapshot":false,"lucene_version":"9.12.0","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}';
    }
    location ~ ^/[^/_][^/]*/_search\$ {
      return 200 '{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":1,"relation":"eq"},"max_score":1.0,"hits":[{"_index":"noop","_id":"1","_score":1.0,"_source":{"title":"noop"}}]}}';
    }
    location ~ ^(/[^/_][^/]*)?/_bulk\$ {
      return 200 '{"took":1,"errors":false,"items":[]}';
    }
    location / {
      return 200 '{}';
    }
  }
}
EOF
log "starting nginx on $target (CPU 0)"
taskset -c 0 nginx -c "$ngx/nginx.conf" -p "$ngx" -e "$ngx/error.log"
for _ in $(seq 50); do [ -s "$ngx/nginx.pid" ] && break; sleep 0.1; done
nginx_pid=$(cat "$ngx/nginx.pid")
curl -sf "http://$target/" >/dev/null || { log "nginx does not answer on $target:"; cat "$ngx/error.log" >&2; exit 1; }

# ---- measured runs
failed=0
# measure CASE REP TOOL LIMIT_S [key=value ...] -- COMMAND...: runs COMMAND
# pinned to CPU 1 under rusage.py, bounded by LIMIT_S, and appends its
# figures to results.jsonl.
measure() {
  local case=$1 rep=$2 tool=$3 limit=$4 out settings=()
  shift 4
  while [ "$1" != -- ]; do settings+=("$1"); shift; done
  shift
  out=$res/$case-$rep-$tool
  log "rep $rep: $case: $tool"
  python3 bench/run/rusage.py "$out.time" -- timeout -k 5 "$limit" taskset -c 1 "$@" >"$out.out" 2>"$out.err" || true
  if [ "$tool" = vegeta ] && [ -s "$out.bin" ]; then
    "$vegeta" report -type=json "$out.bin" >"$out.json" 2>>"$out.err" || true
    rm -f "$out.bin"
  fi
  python3 bench/run/figures.py tool "$tool" "$out" "$case" "$rep" "${settings[@]}" >>"$res/results.jsonl"
  if tail -1 "$res/results.jsonl" | grep -q '"error"'; then
    log "$case: $tool failed: $(tail -1 "$res/results.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"])')"
    tail -5 "$out.err" >&2 || true
    failed=1
  fi
}
rally_race() { # rally_race OUT-PREFIX TRACK-PATH CHALLENGE PARAMS
  env RALLY_HOME="$work/rally-home" "$rally" race --track-path "$2" --challenge "$3" --track-params "$4" \
    --target-hosts "$target" --report-format json --report-file "$1.json"
}
limit=$((secs + 60))

closed() { # closed REP CONNS
  local rep=$1 c=$2 case=closed-$2 s=(kind=closed "conns=$2")
  measure "$case" "$rep" rally "$limit" "${s[@]}" -- \
    env RALLY_HOME="$work/rally-home" "$rally" race --track-path "$root/bench/noop" --challenge search \
    --track-params "clients:$c,time_period:$secs" --target-hosts "$target" --report-format json --report-file "$res/$case-$rep-rally.json"
  measure "$case" "$rep" wrk "$limit" "${s[@]}" -- \
    wrk -t1 -c"$c" -d"${secs}s" --latency -s "$root/bench/noop/search.lua" "http://$target/noop/_search"
  measure "$case" "$rep" vegeta "$limit" "${s[@]}" -- \
    "$vegeta" attack -targets "$work/vegeta-targets.txt" -rate 0 -workers "$c" -max-workers "$c" \
    -duration "${secs}s" -output "$res/$case-$rep-vegeta.bin"
  measure "$case" "$rep" hey "$limit" "${s[@]}" -- \
    "$hey" -z "${secs}s" -c "$c" -m GET -T application/json -D "$work/search-body.json" "http://$target/noop/_search"
}

throttled() { # throttled REP RATE CLIENTS
  local rep=$1 r=$2 c=$3 case=throttled-$2-$3 s=(kind=throttled "rate=$2" "clients=$3")
  measure "$case" "$rep" rally "$limit" "${s[@]}" -- \
    env RALLY_HOME="$work/rally-home" "$rally" race --track-path "$root/bench/noop" --challenge search \
    --track-params "clients:$c,time_period:$secs,target_throughput:$r" --target-hosts "$target" \
    --report-format json --report-file "$res/$case-$rep-rally.json"
  measure "$case" "$rep" vegeta "$limit" "${s[@]}" -- \
    "$vegeta" attack -targets "$work/vegeta-targets.txt" -rate "$r/1s" -workers "$c" -max-workers "$c" \
    -duration "${secs}s" -output "$res/$case-$rep-vegeta.bin"
}

bulk_params="corpus_docs:$corpus_docs,corpus_bytes:$corpus_bytes,corpus_files:$passes,bulk_size:1000,bulk_clients:8"
bulk() { # bulk REP
  local rep=$1 case=bulk
  local s=(kind=bulk "corpus_docs=$corpus_docs" "corpus_bytes=$corpus_bytes" "passes=$passes" bulk_size=1000 clients=8)
  measure "$case" "$rep" rally $((limit + 240)) "${s[@]}" -- \
    env RALLY_HOME="$work/rally-home" "$rally" race --track-path "$bulk_track" --challenge bulk \
    --track-params "$bulk_params" --target-hosts "$target" --report-format json --report-file "$res/$case-$rep-rally.json"
  measure "$case" "$rep" wrk "$limit" "${s[@]}" docs_per_request=1000 -- \
    wrk -t1 -c8 -d"${secs}s" --latency -s "$work/bulk.lua" "http://$target/_bulk"
}

memory() { # memory REP CLIENTS
  local rep=$1 c=$2 case=rss-$2
  measure "$case" "$rep" rally $((rss_secs + 120)) kind=rss "clients=$c" -- \
    env RALLY_HOME="$work/rally-home" "$rally" race --track-path "$root/bench/noop" --challenge search \
    --track-params "clients:$c,time_period:$rss_secs,target_throughput:$c" --target-hosts "$target" \
    --report-format json --report-file "$res/$case-$rep-rally.json"
}

# Unmeasured: rally's first race on the corpus makes its offset table, and
# the first races warm the target and the page cache.
log "warm-up (unmeasured): a bulk race over the corpus and a short search"
! want bulk || rally_race "$work/warmup-bulk" "$bulk_track" bulk "$bulk_params" >"$work/warmup-bulk.log" 2>&1 ||
  log "warm-up bulk race failed: $(tail -3 "$work/warmup-bulk.log")"
rally_race "$work/warmup-search" "$root/bench/noop" search "clients:8,time_period:1" >"$work/warmup-search.log" 2>&1 ||
  log "warm-up search race failed: $(tail -3 "$work/warmup-search.log")"

for rep in $(seq "$reps"); do
  for c in 8 64; do want "closed-$c" && closed "$rep" "$c"; done
  for r in 5000 20000; do
    for c in 50 500; do want "throttled-$r-$c" && throttled "$rep" "$r" "$c"; done
  done
  want bulk && bulk "$rep"
  for c in 100 1000 10000; do want "rss-$c" && memory "$rep" "$c"; done
done
stop_nginx

# ---- go benchmarks: up/down on lab hosts, the coordinator with members
updown_note=
if ! want updown; then
  updown_note="not run: BENCH_CASES"
elif [ "$(id -u)" != 0 ]; then
  updown_note="not run: the lab needs root"
elif [ "${RALLY_LAB:-}" = skip ]; then
  updown_note="not run: RALLY_LAB=skip"
else
  log "rally up / down on lab hosts: go test -bench '$updown' -count $updown_count ./e2e/"
  if ! go test -run '^$' -bench "$updown" -benchtime 1x -count "$updown_count" -timeout 60m ./e2e/ >"$res/updown.out" 2>&1; then
    updown_note="failed: $(grep -E -- '--- FAIL|FAIL|Error|error' "$res/updown.out" | head -3 | tr '\n' ' ')"
    log "up/down benchmark $updown_note"
    failed=1
  fi
  python3 bench/run/figures.py gotest updown "$res/updown.out" >>"$res/results.jsonl"
  grep -q '"kind": "updown"' "$res/results.jsonl" || updown_note=${updown_note:-"no figures: $(grep -E 'SKIP|skip' "$res/updown.out" | head -2 | tr '\n' ' ')"}
fi
members_note=
if ! want members; then
  members_note="not run: BENCH_CASES"
else
log "coordinator with members: go test -bench '$members' -count $members_count ./race/"
if ! go test -run '^$' -bench "$members" -benchtime 1x -count "$members_count" -timeout 30m ./race/ \
  -args -members-period="$members_period" >"$res/members.out" 2>&1; then
  members_note="failed: $(grep -E -- '--- FAIL|FAIL|members_bench' "$res/members.out" | head -3 | tr '\n' ' ')"
  log "members benchmark $members_note"
  failed=1
fi
python3 bench/run/figures.py gotest members "$res/members.out" >>"$res/results.jsonl"
fi
# 40 lab load drivers holding 800 ops/s in total (e2e/loaddrivers_bench_test.go):
# its benchmark line goes under the tables as it is.
forty_out=
if want forty && [ "$(id -u)" = 0 ] && [ "${RALLY_LAB:-}" != skip ] && [ -z "$quick" ]; then
  log "40 lab load drivers, 800 ops/s: go test -bench FortyLoadDrivers ./e2e/"
  go test -run '^$' -bench 'FortyLoadDrivers' -benchtime 1x -timeout 20m ./e2e/ >"$res/forty.out" 2>&1 || {
    log "forty load drivers benchmark failed: $(grep -E -- '--- FAIL|FAIL' "$res/forty.out" | head -2 | tr '\n' ' ')"; failed=1; }
  forty_out=$(grep -E '^BenchmarkFortyLoadDrivers' "$res/forty.out" || echo "no figures (see forty.out)")
fi

# ---- the results
rally_version=$(git describe --always --dirty 2>/dev/null || echo dev)
wrk_version=$({ wrk -v 2>&1 || true; } | head -1 | cut -d' ' -f2)
nginx_version=$({ nginx -v 2>&1 || true; } | sed 's|.*nginx/||')
script_s=$(( $(date +%s) - t0 ))
export date quick rally_version wrk_version nginx_version VEGETA_VERSION HEY_VERSION reps secs rss_secs \
  updown updown_count updown_note members members_count members_period members_note script_s
python3 - "$res/meta.json" <<'PY'
import json, os, sys
e = os.environ
json.dump({
  "date": e["date"], "host": os.uname().nodename, "cpus": os.cpu_count(), "quick": bool(e["quick"]),
  "rally": e["rally_version"], "wrk": e["wrk_version"], "nginx": e["nginx_version"],
  "vegeta": e["VEGETA_VERSION"], "hey": e["HEY_VERSION"],
  "reps": int(e["reps"]), "seconds": int(e["secs"]), "rss_seconds": int(e["rss_secs"]),
  "updown_bench": e["updown"], "updown_count": int(e["updown_count"]), "updown_note": e["updown_note"],
  "members_bench": e["members"], "members_count": int(e["members_count"]),
  "members_period": e["members_period"], "members_note": e["members_note"], "script_s": int(e["script_s"]),
}, open(sys.argv[1], "w"))
PY
mkdir -p bench/results
name=run
[ -z "$cases" ] || name=cases
table=bench/results/$name-$date.md
logs=bench/results/$name-$date.logs
python3 bench/run/report.py "$res/results.jsonl" "$res/meta.json" >"$table"
if [ -n "$forty_out" ]; then
  printf '\n## 40 lab load drivers, 80 clients, 800 ops/s in total\n\n`go test -run %s -bench FortyLoadDrivers -benchtime 1x ./e2e/` (e2e/loaddrivers_bench_test.go): latency from the intended start, over 20 s, against estarget'"'"'s canned mode on the lab gateway.\n\n```\n%s\n```\n' "'^\$'" "$forty_out" >>"$table"
fi
rm -rf "$logs" && mkdir -p "$logs" && cp "$res"/* "$logs/"
cat "$table"
log "wrote $table (raw outputs in $logs)"
exit "$failed"
