// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "Portico",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "portico", targets: ["portico"]),
    .library(name: "PorticoAPI", targets: ["PorticoAPI"]),
    .library(name: "PorticoTranslate", targets: ["PorticoTranslate"]),
    .library(name: "PorticoRouting", targets: ["PorticoRouting"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // RE2 (linear-time regular expressions) through a small C shim.
    .target(
      name: "CRE2",
      linkerSettings: [.linkedLibrary("re2"), .linkedLibrary("stdc++")]
    ),
    // libyaml's event parser: positions for every node, no recursion limits of our own making.
    .systemLibrary(
      name: "CYAML",
      pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"])]
    ),
    .target(name: "PorticoCore", dependencies: ["CRE2"]),
    .target(name: "PorticoAPI", dependencies: ["PorticoCore", "CYAML"]),
    .target(name: "PorticoTranslate", dependencies: ["PorticoAPI"]),
    .target(name: "PorticoRouting", dependencies: ["PorticoTranslate"]),
    .target(name: "PorticoInspect", dependencies: ["PorticoRouting"]),
    .executableTarget(
      name: "portico",
      dependencies: [
        "PorticoInspect",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "RouteScaleBenchmark",
      dependencies: ["PorticoRouting"],
      path: "bench/RouteScale"
    ),
    .testTarget(name: "PorticoAPITests", dependencies: ["PorticoAPI"]),
    .testTarget(name: "PorticoTranslateTests", dependencies: ["PorticoTranslate"]),
    .testTarget(name: "PorticoRoutingTests", dependencies: ["PorticoRouting"]),
    .testTarget(
      name: "PorticoInspectTests",
      dependencies: ["PorticoInspect"],
      exclude: ["Goldens"]
    ),
  ],
  swiftLanguageModes: [.v6],
  cxxLanguageStandard: .cxx17
)
