#!/usr/bin/env bash
# Builds the route-scale benchmark in release mode and prints its table (Markdown).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product RouteScaleBenchmark >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
.build/release/RouteScaleBenchmark
