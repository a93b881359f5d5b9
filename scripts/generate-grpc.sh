#!/usr/bin/env bash
# Regenerates Sources/PorticoRelay/Generated from Protos/portico/relay/v1/relay.proto.
# Needs protoc (Debian: protobuf-compiler); builds the two Swift plugins in a scratch folder.
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
out="$root/Sources/PorticoRelay/Generated"
tmp="$(mktemp -d)"
mkdir -p "$out"
protoc -I "$root/Protos" \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$tmp" --swift_opt=Visibility=Public \
  --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" --grpc-swift_out="$tmp" \
  --grpc-swift_opt=Visibility=Public \
  portico/relay/v1/relay.proto
cp "$tmp"/portico/relay/v1/*.swift "$out"/ && rm -rf "$tmp"
echo "generated into $out"
# Committed code follows the project's format, so that lint passes on it as on everything else.
swift format format --in-place --recursive "$out"
