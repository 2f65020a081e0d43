import Foundation

// podlink-bench: the project's benchmarks, each comparing against its peer in the same
// run. Build in release mode: `swift build -c release && .build/release/podlink-bench [idl|codec|rpc|all]`.
let arguments = CommandLine.arguments.dropFirst()
let selected = Set(arguments.isEmpty ? ["all"] : arguments)
var harness = Harness()

/// The package root, from the current directory or this file's location.
let root: URL = {
    let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    if FileManager.default.fileExists(atPath: current.appending(path: "Package.swift").path) { return current }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}()

do {
    // `rpc-load sequential|pipelined|concurrent SOCKET`: the RPC benchmark's load alone,
    // against any varlink server, for a profiler attached to that server.
    if arguments.first == "rpc-load" {
        let rest = Array(arguments.dropFirst())
        guard rest.count == 2 else { throw BenchmarkError("usage: podlink-bench rpc-load sequential|pipelined|concurrent SOCKET") }
        switch rest[0] {
        case "sequential": print(String(format: "%.0f calls/s", try RPCBenchmarks.sequential(path: rest[1], calls: 100_000).0))
        case "pipelined": print(String(format: "%.0f calls/s", try RPCBenchmarks.pipelined(path: rest[1], calls: 1_000_000)))
        case "concurrent": print(String(format: "%.0f calls/s", RPCBenchmarks.concurrent(path: rest[1], connections: 64, callsEach: 10_000).0))
        default: throw BenchmarkError("rpc-load: \"\(rest[0])\" is not sequential, pipelined or concurrent")
        }
        exit(0)
    }
    if selected.contains("all") || selected.contains("idl") { try IDLBenchmarks.run(&harness, root: root) }
    if selected.contains("all") || selected.contains("codec") { try CodecBenchmarks.run(&harness) }
    if selected.contains("decode-loop") { try CodecBenchmarks.decodeLoop() }
    if selected.contains("lookup-loop") { try await RuntimeBenchmarks.lookupLoop() }
    if selected.contains("check") {
        try CodecBenchmarks.crossCheck()
        print("release check: the generated codec and Foundation agree")
    }
    if selected.contains("all") || selected.contains("runtime") { harness = try await RuntimeBenchmarks.run(harness) }
    if selected.contains("all") || selected.contains("lifecycle") { harness = try await LifecycleBenchmarks.run(harness) }
    // Not in "all": network and pod need a network namespace of their own (make bench runs them in one).
    if selected.contains("network") { harness = try await NetworkBenchmarks.run(harness) }
    if selected.contains("pod") {
        harness = try await PodBenchmarks.run(harness, productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    }
    if selected.contains("all") || selected.contains("daemon") {
        harness = try await DaemonBenchmarks.run(harness, productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    }
    if selected.contains("all") || selected.contains("exec") {
        harness = try await ExecBenchmarks.run(harness, productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    }
    if selected.contains("all") || selected.contains("rootless") {
        harness = try await RootlessBenchmarks.run(harness, productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    }
    if selected.contains("all") || selected.contains("pull") {
        harness = try await PullBenchmarks.run(harness, productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), root: root)
    }
    if selected.contains("all") || selected.contains("rpc") {
        // The servers under test are built next to this program.
        try RPCBenchmarks.run(productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    }
} catch {
    FileHandle.standardError.write(Data("podlink-bench: \(error)\n".utf8))
    exit(1)
}
