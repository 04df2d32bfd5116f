#!/usr/bin/env bash
# Fetches the real Elasticsearch and OpenSearch distributions rally's
# engine tests run (e2e/engines_test.go, provision's own, and those that
# start a node with provision/enginetest, on the JDK provision chooses
# under /usr/lib/jvm): the integ-test zips, with Maven's
# own client into the local Maven repository (~/.m2/repository), skipping
# what is already there. Installs Maven and a JDK 17 with apt-get when they
# are missing, looks for a JDK 21+ (Elasticsearch 9 and OpenSearch 3 need
# one; Debian bookworm's archive has none) and prints the paths of what it
# has. Exits non-zero naming what it could not fetch. Safe to run again;
# warm, it starts no Maven and no apt-get.
# Usage: bash scripts/engines.sh [engine:version ...]   (default: all five)
set -euo pipefail

repo="$HOME/.m2/repository"
# group:artifact:version of each zip; Maven's layout gives its path.
artifacts=(
  org.opensearch.distribution.integ-test-zip:opensearch:2.19.1
  org.opensearch.distribution.integ-test-zip:opensearch:3.0.0
  org.elasticsearch.distribution.integ-test-zip:elasticsearch:7.17.28
  org.elasticsearch.distribution.integ-test-zip:elasticsearch:8.17.0
  org.elasticsearch.distribution.integ-test-zip:elasticsearch:9.2.0
)
if [ $# -gt 0 ]; then
  wanted=()
  for want in "$@"; do
    found=
    for gav in "${artifacts[@]}"; do
      [ "${gav#*:}" = "$want" ] && wanted+=("$gav") && found=1
    done
    [ -n "$found" ] || { echo "engines: unknown engine:version $want (want one of: ${artifacts[*]#*:})" >&2; exit 2; }
  done
  artifacts=("${wanted[@]}")
fi
# Elasticsearch 9 and OpenSearch 3 need Java 21+.
need21=
for gav in "${artifacts[@]}"; do
  case "$gav" in *:opensearch:3.*|*:elasticsearch:9.*) need21=1 ;; esac
done
missing=()
updated=0

# apt_install installs Debian packages, once running apt-get update.
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "engines: need root to install: $*" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ "$updated" = 0 ]; then
    apt-get update -qq
    updated=1
  fi
  echo "engines: installing $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# java_major prints the feature version of the JDK at $1 (17 for
# "17.0.15"), from its release file; nothing when it is not a JDK.
java_major() {
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*"$/\1/p' "$1/release" 2>/dev/null) || true
  [ -x "$1/bin/java" ] && [ -n "$v" ] && echo "$v"
}

# jdk_at_least prints the JDK under /usr/lib/jvm with the lowest feature
# version of at least $1 (the one closest to what the engine was built
# for); nothing when there is none.
jdk_at_least() {
  local best="" best_v=1000 d v
  for d in /usr/lib/jvm/*; do
    [ -L "$d" ] && continue
    v=$(java_major "$d") || continue
    if [ "$v" -ge "$1" ] && [ "$v" -lt "$best_v" ]; then
      best=$d best_v=$v
    fi
  done
  [ -n "$best" ] && echo "$best"
}

need=()
[ -n "$(jdk_at_least 17)" ] || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}" || missing+=("${need[@]}")
fi

jdk17=$(jdk_at_least 17) || true
jdk21=$(jdk_at_least 21) || true
if [ -z "$jdk21" ] && [ -n "$need21" ]; then
  # Debian bookworm has no openjdk-21; a later release or a backport may.
  if [ "$(id -u)" = 0 ] && { [ "$updated" = 1 ] || { apt-get update -qq && updated=1; }; } &&
    apt-cache policy openjdk-21-jdk-headless 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt_install openjdk-21-jdk-headless || true
    jdk21=$(jdk_at_least 21) || true
  fi
  if [ -z "$jdk21" ] && [ -n "$need21" ]; then
    echo "engines: no JDK 21 or later under /usr/lib/jvm (Elasticsearch 9 and OpenSearch 3 need one)," \
      "and the Debian archive has no openjdk-21-jdk-headless: install one under /usr/lib/jvm" \
      "(this project's machines have Eclipse Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
    missing+=("JDK 21+")
  fi
fi

if command -v mvn >/dev/null 2>&1; then
  for gav in "${artifacts[@]}"; do
    IFS=: read -r group artifact version <<<"$gav"
    zip="$repo/${group//.//}/$artifact/$version/$artifact-$version.zip"
    if [ -s "$zip" ]; then
      continue
    fi
    echo "engines: fetching $artifact $version"
    # maven.repo.local: Maven takes the home directory from the password
    # database, not $HOME; this keeps it filling the repository checked here.
    if ! mvn -q -B dependency:get -Dmaven.repo.local="$repo" -Dtransitive=false -Dartifact="$gav:zip" || [ ! -s "$zip" ]; then
      echo "engines: could not fetch $gav:zip" >&2
      missing+=("$artifact $version")
    fi
  done
else
  missing+=("maven")
fi

echo "engines: java 17:  ${jdk17:-none}"
echo "engines: java 21+: ${jdk21:-none}"
for gav in "${artifacts[@]}"; do
  IFS=: read -r group artifact version <<<"$gav"
  zip="$repo/${group//.//}/$artifact/$version/$artifact-$version.zip"
  [ -s "$zip" ] && echo "engines: $artifact $version: $zip"
done
if [ ${#missing[@]} -gt 0 ]; then
  printf -v list '%s, ' "${missing[@]}"
  echo "engines: missing: ${list%, }" >&2
  exit 1
fi
