#!/usr/bin/env bash
# Checks the TLS a Portico listener offers with testssl.sh: protocols, cipher categories, forward secrecy,
# server defaults and known vulnerabilities. Serves examples/tls (https on 127.0.0.1:8443) with the
# release build and writes the report to bench/results/testssl.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v testssl >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq testssl.sh >/dev/null
fi
[ -x .build/release/portico ] || swift build -c release --product portico
mkdir -p bench/results

.build/release/portico run examples/tls --demo-upstreams --access-log off --admin 127.0.0.1:0 >/dev/null 2>&1 &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sk -o /dev/null --resolve shop.local:8443:127.0.0.1 https://shop.local:8443/ && break
  sleep 0.1
done

testssl --quiet --color 0 --warnings off --ip 127.0.0.1 --protocols --std --fs --server-defaults --vulnerable \
  https://shop.local:8443 | tee bench/results/testssl.txt
