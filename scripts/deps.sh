#!/usr/bin/env bash
# Installs what rally's lab and tests need on a Debian machine: OpenSSH
# (sshd for the lab hosts, ssh-keygen), iproute2 (namespaces, veth,
# bridges), util-linux (unshare, nsenter), tmux (terminal UI tests), a C
# toolchain for the race detector (go test -race needs cgo: gcc and the C
# library's headers), and the Go modules. Safe to run again.
set -euo pipefail
need=()
command -v /usr/sbin/sshd >/dev/null 2>&1 || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v ps >/dev/null 2>&1 || need+=(procps)
cc=$(go env CC 2>/dev/null) || cc=gcc
command -v "${cc%% *}" >/dev/null 2>&1 || need+=(gcc)
[ -e /usr/include/stdlib.h ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: need root to install: ${need[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p /run/sshd 2>/dev/null || true
# Elasticsearch and OpenSearch refuse to run as root: provisioned nodes run as this user.
if [ "$(id -u)" = 0 ]; then
  id rally-node >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin rally-node
fi
# Nodes of a cluster across hosts bind non-loopback addresses, so the
# engines enforce their bootstrap checks: the lab hosts share this kernel.
if [ "$(id -u)" = 0 ] && [ "$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 262144)" -lt 262144 ]; then
  echo "deps: sysctl vm.max_map_count=262144 (the engines' bootstrap check for nodes on the network)"
  sysctl -qw vm.max_map_count=262144
fi
cd "$(dirname "$0")/.."
go mod download
