.PHONY: run test lint format build bench bench-routes

# The quickstart: check the example configuration, then serve it on port 8080 with demo upstreams
# (admin on 127.0.0.1:9901). Ctrl-C stops it gracefully.
run: build
	.build/debug/portico validate examples/quickstart
	.build/debug/portico run examples/quickstart --demo-upstreams

# Everything CI runs: dependencies, formatting, build, all tests.
test:
	scripts/test.sh

build:
	scripts/install-deps.sh
	swift build --product portico

lint:
	swift format lint --strict --recursive --parallel Package.swift Sources Tests bench/RouteScale bench/NIOFloor

format:
	swift format format --in-place --recursive --parallel Package.swift Sources Tests bench/RouteScale bench/NIOFloor

# Load benchmark beside nginx, HAProxy and Envoy (installs them when missing); see docs/benchmarks.md.
bench:
	bench/run.sh

# Route-scale benchmark: translate, compile and match 10,000 routes versus 10 (release build).
bench-routes:
	bench/route-scale.sh
