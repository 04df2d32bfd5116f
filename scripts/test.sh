#!/usr/bin/env bash
# Runs rally's whole test suite on this machine: installs what it needs,
# vets, builds the static binaries for linux/amd64 and linux/arm64, runs
# every test under the race detector (the end-to-end ones on a lab of real
# SSH test hosts: needs root), and runs each fuzz target for a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# The real Elasticsearch and OpenSearch archives and JDKs the engine tests
# start; quick when they are already in ~/.m2. With RALLY_ENGINES=skip what
# is missing only skips those tests.
bash scripts/engines.sh || [ "${RALLY_ENGINES:-}" = skip ]
# rally ships static builds, so everything but the race detector's test run
# is built without cgo. The race detector needs cgo (and a C toolchain, see
# deps.sh); the end-to-end tests still build the binaries they run with
# CGO_ENABLED=0, so only the test harness runs under it.
export CGO_ENABLED=0
echo "== go vet"
go vet ./...
echo "== static builds"
mkdir -p bin
for arch in amd64 arm64; do
  GOOS=linux GOARCH=$arch go build -trimpath -ldflags='-s -w' -o "bin/rally-linux-$arch" ./cmd/rally
done
echo "== tests (race detector)"
# About 6 minutes on 2 cores (the whole of .ci/run about 7.5 when the
# engines are cached): the end-to-end tests (5 min, real engines included)
# and provision's real-engine tests (4 min) run side by side. The timeout
# leaves room for a slow machine while keeping the whole run under CI's 45
# minutes.
CGO_ENABLED=1 go test -race -count=1 -timeout 25m ./...
echo "== fuzz (a few seconds each)"
fuzz_secs=${RALLY_FUZZ_SECONDS:-4}
# fuzz_once runs one target; Go's fuzzer can end a run whose time is up
# with "context deadline exceeded" and no finding when a worker answers
# late (a loaded machine): that run is tried once more. A real finding
# ("Failing input written") fails at once.
fuzz_once() {
  local out
  out=$(mktemp)
  if go test -run '^$' -fuzz "^$2\$" -fuzztime "${fuzz_secs}s" "$1" >"$out" 2>&1; then
    cat "$out"; rm -f "$out"; return 0
  fi
  cat "$out"
  if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
    rm -f "$out"
    echo "-- $1 $2: the fuzzer ran out of time without a finding; once more"
    go test -run '^$' -fuzz "^$2\$" -fuzztime "${fuzz_secs}s" "$1"
    return
  fi
  rm -f "$out"
  return 1
}
go list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "-- $pkg $f"
    fuzz_once "$pkg" "$f"
  done
done
echo "all tests passed"
