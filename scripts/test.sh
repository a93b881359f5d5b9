#!/usr/bin/env bash
# Runs the whole test suite from a clean checkout: installs what the build needs, checks formatting,
# builds once, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift format lint --strict --recursive --parallel Package.swift Sources Tests bench/RouteScale bench/NIOFloor
swift build --build-tests
swift test --skip-build
