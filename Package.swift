// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Podlink",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VarlinkIDL", targets: ["VarlinkIDL"]),
        .library(name: "Varlink", targets: ["Varlink"]),
        .library(name: "VarlinkNIO", targets: ["VarlinkNIO"]),
        .library(name: "PodlinkInterfaces", targets: ["PodlinkInterfaces"]),
        .executable(name: "varlink-codegen", targets: ["varlink-codegen"]),
        .executable(name: "varlink", targets: ["varlink"]),
        .executable(name: "varlink-certification", targets: ["varlink-certification"]),
        .executable(name: "podlinkd", targets: ["podlinkd"]),
        .executable(name: "podlink", targets: ["podlink"]),
        .library(name: "PodmanClient", targets: ["PodmanClient"]),
        .plugin(name: "VarlinkCodegenPlugin", targets: ["VarlinkCodegenPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Registries: HTTP/1.1 and TLS on NIO's event loops, with streaming bodies.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // C system libraries: module maps only.
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),

        // The IDL: lexer, parser, resolver, formatter, diagnostics. No dependencies.
        .target(name: "VarlinkIDL", swiftSettings: strict),

        // AST -> Swift source. Build time only.
        .target(name: "VarlinkCodegen", dependencies: ["VarlinkIDL"], swiftSettings: strict),
        .executableTarget(
            name: "varlink-codegen",
            dependencies: [
                "VarlinkCodegen", "VarlinkIDL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .plugin(
            name: "VarlinkCodegenPlugin",
            capability: .buildTool(),
            dependencies: ["varlink-codegen"]
        ),

        // posix_spawn with exact descriptors and a clean signal state: shared by the
        // transport (exec:, activation) and Libpod (conmon).
        .target(name: "ProcessSpawn", swiftSettings: strict),

        // The protocol runtime: JSON codec, messages, dispatch.
        .target(name: "Varlink", swiftSettings: strict),

        // The transport: sockets (SwiftNIO), framing, server, client, activation.
        .target(
            name: "VarlinkNIO",
            dependencies: [
                "Varlink", "CSystemd", "ProcessSpawn",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // The contracts in interfaces/*.varlink; the plugin generates their Swift code.
        .target(
            name: "PodlinkInterfaces",
            dependencies: ["Varlink"],
            path: "interfaces",
            swiftSettings: strict,
            plugins: ["VarlinkCodegenPlugin"]
        ),

        // org.varlink.certification: the reference server and client, on the generated code.
        .target(name: "VarlinkCertification", dependencies: ["Varlink", "PodlinkInterfaces"], swiftSettings: strict),

        .executableTarget(
            name: "varlink-certification",
            dependencies: [
                "Varlink", "VarlinkNIO", "VarlinkCertification",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // varlink: the introspection and call tool.
        .executableTarget(
            name: "varlink",
            dependencies: [
                "Varlink", "VarlinkNIO", "VarlinkIDL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Client/varlink",
            swiftSettings: strict
        ),

        // Benchmarks against the peers: `swift run -c release podlink-bench`.
        .executableTarget(
            name: "podlink-bench",
            dependencies: [
                "Varlink", "VarlinkIDL", "VarlinkCodegen", "PodlinkInterfaces", "Libpod", "ProcessSpawn", "PodmanClient",
                "JanssonOracle",
            ],
            path: "Benchmarks/podlink-bench",
            swiftSettings: strict
        ),

        // A file tree as a tar, for cp: packed the same way by the daemon and the CLI.
        .target(
            name: "FileTreeArchive",
            dependencies: ["CArchive"],
            swiftSettings: strict
        ),

        // The runtime: configuration, discovery, state, locks, refresh, events, names, info.
        // Knows nothing of varlink.
        .target(
            name: "Libpod",
            dependencies: [
                "ProcessSpawn", "CArchive", "FileTreeArchive",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // podman 1.x's frames on an upgraded Attach or ExecContainer connection: shared by
        // the server and the SDK.
        .target(name: "PodmanStreams", path: "Sources/PodmanStreams", swiftSettings: strict),
        // io.podman on Libpod: the daemon's service, a library so tests can serve it in-process.
        .target(
            name: "PodlinkServer",
            dependencies: ["Libpod", "Varlink", "PodlinkInterfaces", "PodmanStreams"],
            path: "Server/PodlinkServer",
            swiftSettings: strict
        ),
        // The two steps of entering a rootless user namespace that must run before the
        // process has threads (a constructor): only the daemon links it.
        .target(name: "CRootlessEntry"),
        .executableTarget(
            name: "podlinkd",
            dependencies: [
                "PodlinkServer", "Libpod", "Varlink", "VarlinkNIO", "CRootlessEntry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Server/podlinkd",
            swiftSettings: strict
        ),

        // The Swift SDK: the generated io.podman client plus a thin idiomatic layer.
        .target(
            name: "PodmanClient",
            dependencies: ["Varlink", "VarlinkNIO", "PodlinkInterfaces", "PodmanStreams"],
            path: "Client/PodmanClient",
            swiftSettings: strict
        ),
        // podlink: podman's everyday commands against a daemon.
        .executableTarget(
            name: "podlink",
            dependencies: [
                "PodmanClient", "PodlinkInterfaces", "Varlink", "FileTreeArchive", "CArchive",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Client/podlink",
            swiftSettings: strict
        ),
        // The SDK's example program.
        .executableTarget(
            name: "podman-client-example",
            dependencies: ["PodmanClient", "PodlinkInterfaces"],
            path: "Examples/podman-client-example",
            swiftSettings: strict
        ),

        // statmount(2) for the tests that read mount options while other suites mount and
        // unmount (Debian 12's C library has no wrapper).
        .target(name: "CLinuxMount", path: "Tests/CLinuxMount"),

        // Helpers shared by the test targets that run real processes and sockets.
        .target(name: "PodlinkTestSupport", dependencies: ["ProcessSpawn"], path: "Tests/PodlinkTestSupport", swiftSettings: strict),

        .testTarget(name: "VarlinkIDLTests", dependencies: ["VarlinkIDL"], swiftSettings: strict),
        .testTarget(
            name: "VarlinkCodegenTests",
            dependencies: [
                "VarlinkCodegen", "VarlinkIDL", "Varlink", "PodlinkInterfaces", "VarlinkCertification",
            ],
            swiftSettings: strict
        ),
        // jansson's reading of JSON: the reference the tests and the fuzzer hold Varlink's
        // parser to, and its peer in the codec benchmark.
        .target(name: "JanssonOracle", dependencies: ["CJansson", "Varlink"], path: "Tests/JanssonOracle", swiftSettings: strict),
        .testTarget(name: "VarlinkTests", dependencies: ["Varlink", "JanssonOracle"], swiftSettings: strict),
        .executableTarget(name: "libpod-test-helper", dependencies: ["Libpod"], path: "Tests/LibpodTestHelper", swiftSettings: strict),
        .testTarget(
            name: "LibpodTests",
            dependencies: [
                "Libpod", "PodlinkTestSupport", "libpod-test-helper", "CLinuxMount", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VarlinkCLITests",
            dependencies: ["Varlink", "VarlinkNIO", "VarlinkIDL", "VarlinkCertification", "PodlinkTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PodlinkE2ETests",
            dependencies: [
                "PodmanClient", "PodlinkInterfaces", "Varlink", "PodlinkTestSupport", "podlinkd", "podlink",
                .product(name: "Yams", package: "Yams"),
            ],
            // The peers' own scripts (python-podman), run by the tests from their path.
            exclude: ["Peers"],
            swiftSettings: strict
        ),
        // The io.podman mapping in process: Create's fields, podman's formats. No root.
        .testTarget(name: "PodlinkServerTests", dependencies: ["PodlinkServer", "Libpod", "PodlinkInterfaces", "PodmanStreams"], swiftSettings: strict),
        .testTarget(
            name: "VarlinkNIOTests",
            dependencies: [
                "Varlink", "VarlinkNIO", "VarlinkCertification", "PodlinkTestSupport",
                // The test servers take an event loop group.
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict,
            plugins: ["VarlinkCodegenPlugin"]
        ),
    ]
)
