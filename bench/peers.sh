#!/usr/bin/env bash
# Races rally and its peers side by side on real engines, with the same
# track, in one run: esrally against Elasticsearch 7.17.28 and OpenSearch
# Benchmark against OpenSearch 2.19.1, rally against each of them too, and
# wrk on the closed-loop query (the floor of what an HTTP client spends).
# Writes bench/results/peers-<date>.md (and prints it): per tool, driver CPU
# and peak memory of all its processes, and each task's throughput and
# service-time percentiles from the tool's own CSV report, with the ratios
# rally / peer. A benchmark: it never fails on a number.
#
# Needs root (the nodes run as the user rally-node, which scripts/deps.sh
# creates; wrk is installed with apt-get when missing). Fetches, once, into
# a cache directory (PEERS_CACHE, default ~/.cache/rally-peers): esrally and
# OpenSearch Benchmark from PyPI (pinned, one virtualenv each), the corpus
# (generated), and the engines' integ-test zips with scripts/engines.sh.
# The races themselves run in a private network and PID namespace (unshare):
# esrally's actor system port (1900) and --kill-running-processes (which
# kills every process named "rally" or "esrally" it sees) reach nothing of
# the machine's own.
#
# Usage: bash bench/peers.sh
# Settings (environment): PEERS_DOCS (corpus documents, 200000),
# PEERS_TIME_PERIOD (s per throttled search task, 15), PEERS_ITERATIONS
# (closed-loop measured iterations per client, 20000), PEERS_WARMUP_ITERATIONS
# (closed-loop warm-up iterations per client, 2000), PEERS_WRK_SECONDS (10).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ESRALLY_VERSION=2.13.0
OSB_VERSION=2.4.0
ES_VERSION=7.17.28
OS_VERSION=2.19.1
JDK=/usr/lib/jvm/java-17-openjdk-amd64
export PEERS_CACHE=${PEERS_CACHE:-$HOME/.cache/rally-peers}
export PEERS_DOCS=${PEERS_DOCS:-200000}
export PEERS_TIME_PERIOD=${PEERS_TIME_PERIOD:-15}
export PEERS_ITERATIONS=${PEERS_ITERATIONS:-20000}
export PEERS_WARMUP_ITERATIONS=${PEERS_WARMUP_ITERATIONS:-2000}
export PEERS_WRK_SECONDS=${PEERS_WRK_SECONDS:-10}
cache=$PEERS_CACHE
log() { echo "peers: $*" >&2; }

# ---- outside the namespace: everything that needs the network or a cache
if [ "${1:-}" != --inside ]; then
  export PEERS_T0=$(date +%s)
  [ "$(id -u)" = 0 ] || { log "run as root (the nodes run as rally-node; wrk may need apt-get)"; exit 1; }
  id rally-node >/dev/null 2>&1 || { log "no user rally-node: run bash scripts/deps.sh"; exit 1; }
  [ -x "$JDK/bin/java" ] || { log "no JDK 17 at $JDK: run bash scripts/engines.sh"; exit 1; }
  mkdir -p "$cache"
  venv() { # venv DIR PACKAGE==VERSION
    if [ "$(cat "$cache/$1/.installed" 2>/dev/null)" != "$2" ]; then
      log "installing $2 from PyPI into $cache/$1"
      rm -rf "${cache:?}/$1"
      python3 -m venv "$cache/$1"
      "$cache/$1/bin/pip" install -q --disable-pip-version-check "$2"
      echo "$2" >"$cache/$1/.installed"
    fi
  }
  venv "esrally-$ESRALLY_VERSION" "esrally==$ESRALLY_VERSION"
  venv "osb-$OSB_VERSION" "opensearch-benchmark==$OSB_VERSION"
  if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v unzip >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq unzip >/dev/null; }
  bash scripts/engines.sh "elasticsearch:$ES_VERSION" "opensearch:$OS_VERSION" >&2
  log "building bin/rally"
  go build -o bin/rally ./cmd/rally
  # The corpus, generated once per size; the track (rally, esrally) and the
  # workload (OSB: challenges are test_procedures) from the one track.json.
  corpus=$cache/corpus-$PEERS_DOCS.json
  if [ ! -s "$corpus.meta" ] || [ ! -s "$corpus" ]; then
    log "generating $PEERS_DOCS documents"
    python3 bench/peers/corpus.py "$PEERS_DOCS" "$corpus.tmp" >"$corpus.meta.tmp"
    mv "$corpus.tmp" "$corpus" && mv "$corpus.meta.tmp" "$corpus.meta"
  fi
  for d in track workload; do
    dir=$cache/$d-$PEERS_DOCS
    mkdir -p "$dir"
    cp bench/peers/index.json "$dir/"
    ln -sf "$corpus" "$dir/documents.json"
  done
  cp bench/peers/track.json "$cache/track-$PEERS_DOCS/track.json"
  python3 - "$cache/workload-$PEERS_DOCS/workload.json" <<'PY'
import re, sys
text = open("bench/peers/track.json").read()
text, n = re.subn(r'^  "challenges":', '  "test_procedures":', text, flags=re.M)
assert n == 1, "track.json: no top-level challenges"
open(sys.argv[1], "w").write(text)
PY
  # The races: a private network namespace (loopback only) and PID
  # namespace; its init's end takes every process in it along.
  if unshare --net --pid --fork --mount-proc true 2>/dev/null; then
    exec unshare --net --pid --fork --mount-proc --kill-child bash "$0" --inside
  fi
  log "cannot make namespaces: racing on the machine's network, without --kill-running-processes"
  PEERS_SHARED=1 exec bash "$0" --inside
fi

# ---- inside: nodes, races, the table
if [ -z "${PEERS_SHARED:-}" ]; then
  ip link set lo up
  # A link with an address and a default route that lead nowhere: the peers'
  # actor system (Thespian) wants a non-loopback address to run as usual
  # (multiprocTCPBase); without one they switch to a degraded mode.
  ip link add peers0 type veth peer name peers1 && ip addr add 10.254.254.1/24 dev peers0 &&
    ip link set peers0 up && ip link set peers1 up && ip route add default dev peers0 ||
    log "no veth link in the namespace: esrally and OSB may run their actor system in degraded mode"
  kill_flag=--kill-running-processes
  cpu_method="each tool in its own process tree under a child subreaper: exact CPU from getrusage of the reaped tree, summed RSS sampled every 100 ms; all in a private network and PID namespace"
else
  kill_flag=
  cpu_method="each tool in its own process tree under a child subreaper: exact CPU from getrusage of the reaped tree, summed RSS sampled every 100 ms"
fi
read -r docs bytes <"$cache/corpus-$PEERS_DOCS.json.meta"
params="corpus_docs:$docs,corpus_bytes:$bytes,time_period:$PEERS_TIME_PERIOD,iterations:$PEERS_ITERATIONS,warmup_iterations:$PEERS_WARMUP_ITERATIONS"
warmup_params="corpus_docs:$docs,corpus_bytes:$bytes,time_period:3"
date=$(date -u +%Y-%m-%d)
work=$(mktemp -d /tmp/rally-peers.XXXXXX)
chmod 755 "$work"
res=$work/results
mkdir -p "$res"
node_pid=
stop_node() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill "$node_pid"
    for _ in $(seq 60); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$node_pid" 2>/dev/null || true
  fi
  node_pid=
}
cleanup() {
  stop_node
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

m2=$HOME/.m2/repository/org
# start_node NAME ZIP PORT: unpack, start as rally-node, wait for green.
start_node() {
  local name=$1 zip=$2 port=$3 dir=$work/$1 bin
  unzip -q "$zip" -d "$dir"
  local home
  home=$(echo "$dir"/*/)
  home=${home%/}
  mkdir -p "$dir/data" "$dir/logs"
  chown -R rally-node: "$dir"
  case $name in
    es) bin=$home/bin/elasticsearch ;;
    os) bin=$home/bin/opensearch ;;
  esac
  log "starting $(basename "$home") on 127.0.0.1:$port"
  runuser -u rally-node -- env ES_JAVA_HOME=$JDK OPENSEARCH_JAVA_HOME=$JDK JAVA_HOME=$JDK \
    ES_JAVA_OPTS="-Xms1g -Xmx1g" OPENSEARCH_JAVA_OPTS="-Xms1g -Xmx1g" \
    "$bin" -d -p "$dir/node.pid" -E cluster.name=peers-$name -E node.name=peers-$name \
    -E network.host=127.0.0.1 -E http.port=$port -E transport.port=$((port + 100)) \
    -E discovery.type=single-node -E path.data="$dir/data" -E path.logs="$dir/logs" \
    -E cluster.routing.allocation.disk.threshold_enabled=false >"$dir/start.out" 2>&1 || {
    log "$name did not start:"; tail -20 "$dir/start.out" "$dir"/logs/*.log >&2 || true; return 1; }
  for _ in $(seq 240); do
    [ -z "$node_pid" ] && [ -s "$dir/node.pid" ] && node_pid=$(cat "$dir/node.pid")
    if curl -sf "http://127.0.0.1:$port/_cluster/health?wait_for_status=green&timeout=1s" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  log "$name not green after 120 s"; tail -20 "$dir"/logs/*.log >&2 || true
  return 1
}

# measure OUT.json -- COMMAND...: runs COMMAND, its CPU and memory into
# OUT.json; the command goes by a file (esrally kills Python processes whose
# command line names it).
measure() {
  local out=$1
  shift 2
  printf '%s\0' "$@" >"$out.cmd"
  python3 "$root/bench/peers/measure.py" "$out" --cmd-file "$out.cmd"
}

# race ENGINE TOOL CHALLENGE PORT: one race, its CSV report and measure JSON.
race() {
  local eng=$1 tool=$2 ch=$3 port=$4 out=$res/$1-$2-$3 rc=0
  log "$eng: $tool, challenge $ch"
  case $eng-$tool in
    es-peer)
      HOME=$cache/home-esrally measure "$out.json" -- "$cache/esrally-$ESRALLY_VERSION/bin/esrally" race \
        --pipeline=benchmark-only --target-hosts="127.0.0.1:$port" --track-path="$cache/track-$PEERS_DOCS" \
        --challenge="$ch" --track-params="$params" --offline $kill_flag \
        --report-format=csv --report-file="$out.csv" >"$out.log" 2>&1 || rc=$? ;;
    os-peer)
      HOME=$cache/home-osb measure "$out.json" -- "$cache/osb-$OSB_VERSION/bin/opensearch-benchmark" run \
        --pipeline=benchmark-only --target-hosts="127.0.0.1:$port" --workload-path="$cache/workload-$PEERS_DOCS" \
        --test-procedure="$ch" --workload-params="$params" --offline $kill_flag \
        --results-format=csv --results-file="$out.csv" >"$out.log" 2>&1 || rc=$? ;;
    *-rally)
      RALLY_HOME=$work/rally-home measure "$out.json" -- "$root/bin/rally" race \
        --track-path "$cache/track-$PEERS_DOCS" --challenge "$ch" --track-params "$params" \
        --target-hosts "127.0.0.1:$port" --report-format csv --report-file "$out.csv" >"$out.log" 2>&1 || rc=$? ;;
  esac
  [ "$rc" = 0 ] || { log "$eng: $tool $ch exited $rc; last lines of its output:"; tail -15 "$out.log" >&2; }
}

wrk_run() { # wrk_run ENGINE PORT
  log "$1: wrk, ${PEERS_WRK_SECONDS}s"
  measure "$res/$1-wrk.json" -- wrk -t2 -c8 -d"${PEERS_WRK_SECONDS}s" --latency -s "$root/bench/peers/term.lua" \
    "http://127.0.0.1:$2/peers-logs/_search" >"$res/$1-wrk.txt" 2>&1 || log "$1: wrk failed: $(tail -3 "$res/$1-wrk.txt")"
}

# engine KEY ZIP PORT: a node, then the peer and rally on each challenge, then wrk.
engine() {
  local key=$1 zip=$2 port=$3
  if start_node "$key" "$zip" "$port"; then
    # Unmeasured: warms the node's JIT and caches, so the first measured
    # race (the peer's) does not pay for a cold node.
    log "$key: warm-up race (rally, unmeasured)"
    RALLY_HOME=$work/rally-home "$root/bin/rally" race --track-path "$cache/track-$PEERS_DOCS" \
      --challenge peers --track-params "$warmup_params" --target-hosts "127.0.0.1:$port" \
      >"$res/$key-warmup.log" 2>&1 || log "$key: warm-up race failed: $(tail -3 "$res/$key-warmup.log")"
    for ch in peers closed-loop; do
      race "$key" peer "$ch" "$port"
      race "$key" rally "$ch" "$port"
    done
    wrk_run "$key" "$port"
  fi
  stop_node
}

engine es "$m2/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip" 39200
engine os "$m2/opensearch/distribution/integ-test-zip/opensearch/$OS_VERSION/opensearch-$OS_VERSION.zip" 39201

mkdir -p "$root/bench/results"
logs=$root/bench/results/peers-$date.logs
rm -rf "$logs" && mkdir -p "$logs" && cp "$res"/* "$logs/"
python3 - "$res/meta.json" <<PY
import json, os, sys
json.dump({
  "date": "$date", "host": os.uname().nodename, "cpus": os.cpu_count(),
  "rally": "$(git -C "$root" describe --always --dirty 2>/dev/null || echo dev)",
  "esrally": "$ESRALLY_VERSION", "osb": "$OSB_VERSION", "wrk": "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)",
  "docs": $docs, "bytes": $bytes, "time_period": $PEERS_TIME_PERIOD, "iterations": $PEERS_ITERATIONS, "warmup_iterations": $PEERS_WARMUP_ITERATIONS,
  "wrk_seconds": $PEERS_WRK_SECONDS, "cpu_method": "$cpu_method", "warmup": "challenge peers, all documents, 3 s per search task", "log_dir": "bench/results/peers-$date.logs",
  "script_s": $(( $(date +%s) - PEERS_T0 )),
  "engines": [
    {"key": "es", "name": "Elasticsearch $ES_VERSION", "peer": "esrally", "peer_label": "esrally $ESRALLY_VERSION"},
    {"key": "os", "name": "OpenSearch $OS_VERSION", "peer": "OSB", "peer_label": "OpenSearch Benchmark $OSB_VERSION"},
  ],
}, open(sys.argv[1], "w"))
PY
table=$root/bench/results/peers-$date.md
python3 "$root/bench/peers/report.py" "$res" "$res/meta.json" >"$table"
cp "$res/meta.json" "$logs/"
cat "$table"
log "wrote $table (raw reports and logs in $logs)"
