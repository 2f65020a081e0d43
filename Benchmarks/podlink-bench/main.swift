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
    if selected.contains("all") || selected.contains("daemon") {
        harness = try await DaemonBenchmarks.run(harness, productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    }
    if selected.contains("all") || selected.contains("rpc") {
        // The servers under test are built next to this program.
        try RPCBenchmarks.run(productsDirectory: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    }
} catch {
    FileHandle.standardError.write(Data("podlink-bench: \(error)\n".utf8))
    exit(1)
}
