#!/usr/bin/env bash
# Regenerates the committed gRPC code from Protos/:
#   Sources/PorticoRelay/Generated      from portico/relay/v1/relay.proto (the plane's relay);
#   Sources/PorticoExtAuthGRPC/Generated from envoy/service/auth/v3/*.proto and what they import (Envoy's
#                                        ext_authz, as passThroughAuth.grpc asks it).
# Needs protoc (Debian: protobuf-compiler, which also ships the well-known types); builds the two Swift
# plugins in a scratch folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${PORTICO_PLUGIN_DIR:-$root/.build-plugins}"
mkdir -p "$tools/dummy"
cat > "$tools/Package.swift" <<'SWIFT'
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
  name: "plugins",
  dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
  ],
  targets: [.executableTarget(name: "dummy", path: "dummy")]
)
SWIFT
echo 'print("")' > "$tools/dummy/main.swift"
(cd "$tools" && swift build -c release --product protoc-gen-swift && swift build -c release --product protoc-gen-grpc-swift-2)
bin="$tools/.build/release"

# generate OUT_DIR VISIBILITY PROTO...: messages and services of the protos, flattened into OUT_DIR.
generate() {
  local out="$root/$1" visibility="$2"
  shift 2
  local tmp
  tmp="$(mktemp -d)"
  protoc -I "$root/Protos" \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$tmp" --swift_opt=Visibility="$visibility" \
    --swift_opt=FileNaming=PathToUnderscores \
    --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" --grpc-swift_out="$tmp" \
    --grpc-swift_opt=Visibility="$visibility" --grpc-swift_opt=FileNaming=PathToUnderscores \
    "$@"
  rm -rf "$out" && mkdir -p "$out"
  cp "$tmp"/*.swift "$out"/ && rm -rf "$tmp"
  # The gRPC plugin writes a file for every proto, with only a comment for one without services.
  grep -l "This file contained no services" "$out"/*.grpc.swift | xargs -r rm
  # Committed code follows the project's format, so that lint passes on it as on everything else.
  swift format format --in-place --recursive "$out"
  echo "generated into $out"
}

generate Sources/PorticoRelay/Generated Public portico/relay/v1/relay.proto
generate Sources/PorticoExtAuthGRPC/Generated Public \
  envoy/service/auth/v3/external_auth.proto envoy/service/auth/v3/attribute_context.proto \
  envoy/config/core/v3/base.proto envoy/config/core/v3/address.proto envoy/type/v3/http_status.proto \
  google/rpc/status.proto
