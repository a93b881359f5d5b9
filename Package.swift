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
    .library(name: "PorticoProxy", targets: ["PorticoProxy"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    // The relay between the management plane and its gateways (and, in tests, gRPC on either side of a gateway).
    .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    // The relay CA: certificates and signing requests.
    .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    // The management plane's embedded store.
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
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
    // OpenLDAP's client library, for the `ldap` auth mode.
    .systemLibrary(
      name: "CLDAP",
      pkgConfig: "ldap",
      providers: [.apt(["libldap-dev"])]
    ),
    // ModSecurity v3 (libmodsecurity), for the WAF.
    .systemLibrary(
      name: "CModSecurity",
      pkgConfig: "modsecurity",
      providers: [.apt(["libmodsecurity-dev"])]
    ),
    // jemalloc, the gateway's allocator (linked into the executable, ahead of the C library's malloc).
    .systemLibrary(
      name: "CJemalloc",
      pkgConfig: "jemalloc",
      providers: [.apt(["libjemalloc-dev"])]
    ),
    // zlib, for DLP over gzip and deflate response bodies.
    .systemLibrary(
      name: "CZlib",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]
    ),
    // libxslt and libxml2 (with EXSLT), for XSLT transformations.
    .systemLibrary(
      name: "CLibXSLT",
      pkgConfig: "libexslt",
      providers: [.apt(["libxslt1-dev", "libxml2-dev"])]
    ),
    // The hardened parse-and-transform calls over libxslt (no DTDs, entities, files or network).
    .target(name: "CXSLT", dependencies: ["CLibXSLT"]),
    .target(name: "CRego"),
    .target(name: "PorticoRego", dependencies: ["CRego"]),
    // The WAF's engine: ModSecurity rule sets compiled once and shared, and transactions over them.
    .target(name: "PorticoWAF", dependencies: ["CModSecurity"]),
    // Transformations' engines: XSLT stylesheets compiled once and shared, and JSON read as XML.
    .target(name: "PorticoXSLT", dependencies: ["CXSLT", "PorticoCore"]),
    // Inja templates (Envoy's transformation templates): parsed once, rendered per message.
    .target(name: "PorticoTemplates"),
    .target(name: "PorticoCore", dependencies: ["CRE2"]),
    .target(name: "PorticoAPI", dependencies: ["PorticoCore", "CYAML", "PorticoTemplates"]),
    .target(
      name: "PorticoTranslate",
      dependencies: [
        "PorticoAPI", "PorticoRego", "PorticoWAF", "PorticoXSLT",
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    // Rate limiting's semantics (descriptors, rules, counting), apart from the data plane that calls it.
    .target(name: "PorticoRateLimit", dependencies: ["PorticoTranslate"]),
    // A small Redis client on SwiftNIO (RESP2, pipelining, Redis Cluster slots): global rate-limit counters.
    .target(
      name: "PorticoRedis",
      dependencies: [
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]
    ),
    .target(name: "PorticoRouting", dependencies: ["PorticoTranslate"]),
    .target(name: "PorticoInspect", dependencies: ["PorticoRouting", "PorticoRateLimit"]),
    .target(
      name: "PorticoExtAuthGRPC",
      dependencies: [
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    .target(
      name: "PorticoProxy",
      dependencies: [
        "CLDAP",
        "CZlib",
        "PorticoExtAuthGRPC",
        "PorticoRego",
        "PorticoInspect",
        "PorticoRateLimit",
        "PorticoRedis",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOTLS", package: "swift-nio"),
        .product(name: "NIOWebSocket", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "CryptoExtras", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: [
        // The data plane's state is confined to one event loop per connection; the runtime's exclusivity
        // bookkeeping cost several percent of request CPU. Debug builds (and so the tests) keep checking.
        .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
      ]
    ),
    // The relay's messages and gRPC service (generated from Protos/, committed) and both of its ends' shared
    // parts: identities, certificates, the snapshot a gateway caches.
    .target(
      name: "PorticoRelay",
      dependencies: [
        "PorticoTranslate",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "SwiftASN1", package: "swift-asn1"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ]
    ),
    .target(
      name: "PorticoManagement",
      dependencies: [
        "PorticoRelay",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),
    .executableTarget(
      name: "portico",
      dependencies: [
        "CJemalloc",
        "PorticoProxy",
        "PorticoRedis",
        "PorticoRelay",
        "PorticoManagement",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]
    ),
    .executableTarget(
      name: "RouteScaleBenchmark",
      dependencies: ["PorticoRouting"],
      path: "bench/RouteScale"
    ),
    .executableTarget(
      name: "NIOFloorBenchmark",
      dependencies: [
        "PorticoProxy",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOTLS", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
      ],
      path: "bench/NIOFloor"
    ),
    .testTarget(name: "PorticoAPITests", dependencies: ["PorticoAPI"]),
    .testTarget(name: "PorticoXSLTTests", dependencies: ["PorticoXSLT"]),
    .testTarget(name: "PorticoTemplatesTests", dependencies: ["PorticoTemplates"]),
    .testTarget(
      name: "PorticoTranslateTests",
      dependencies: ["PorticoTranslate", .product(name: "Crypto", package: "swift-crypto")]),
    .testTarget(name: "PorticoRoutingTests", dependencies: ["PorticoRouting"]),
    .testTarget(name: "PorticoRateLimitTests", dependencies: ["PorticoRateLimit"], exclude: ["Fixtures"]),
    .testTarget(
      name: "PorticoProxyTests",
      dependencies: [
        "PorticoProxy",
        "PorticoExtAuthGRPC",
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "CryptoExtras", package: "swift-crypto"),
      ],
      exclude: ["HTTP1/Conformance"]
    ),
    .testTarget(
      name: "PorticoManagementTests",
      dependencies: [
        "PorticoManagement",
        "PorticoProxy",
        "PorticoRedis",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ]
    ),
    .testTarget(
      name: "PorticoInspectTests",
      dependencies: ["PorticoInspect"],
      exclude: ["Goldens"]
    ),
  ],
  swiftLanguageModes: [.v6],
  cxxLanguageStandard: .cxx17
)
