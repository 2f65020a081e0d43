import Foundation
import Libpod

/// The runtime's own costs with a full state: creation, refresh after a reboot,
/// lookups and listing, each with 1,000 containers in SQLite.
enum RuntimeBenchmarks {
    static let containerCount = 1_000

    /// Lookups by name alone for a while, for profilers (`perf record ... podlink-bench lookup-loop`).
    static func lookupLoop() async throws {
        let root = "/tmp/podlink-bench/lookups-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runtime = try await Runtime.create(configFile: .none) {
            $0.staticDir = root + "/static"
            $0.tmpDir = root + "/tmp"
        }
        for index in 0..<containerCount {
            try await runtime.addContainer(ContainerConfig(id: "", name: "bench-\(index)", command: ["/bin/true"]))
        }
        for _ in 0..<50_000 { _ = try await runtime.container("bench-500") }
        try await runtime.shutdown()
    }

    static func run(_ harness: Harness) async throws -> Harness {
        var harness = harness
        let root = "/tmp/podlink-bench/runtime-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        func make() async throws -> Runtime {
            try await Runtime.create(configFile: .none) {
                $0.staticDir = root + "/static"
                $0.tmpDir = root + "/tmp"
            }
        }
        print("Runtime: SQLite state with \(containerCount) containers")
        let runtime = try await make()
        var last = ""
        for index in 0..<containerCount {
            let container = try await runtime.addContainer(
                ContainerConfig(id: "", name: "bench-\(index)", command: ["/bin/true"], labels: ["index": String(index)]))
            last = container.id
        }
        let prefix = String(last.prefix(12))

        let lookupName = try await harness.measureAsync("lookup by name") { _ = try await runtime.container("bench-500") }
        harness.goal(lookupName, under: 50_000, "lookup by name")
        let lookupPrefix = try await harness.measureAsync("lookup by ID prefix (12 hex)") { _ = try await runtime.container(prefix) }
        harness.goal(lookupPrefix, under: 50_000, "lookup by ID prefix")
        let list = try await harness.measureAsync("list \(containerCount) containers") {
            let all = try await runtime.containers()
            precondition(all.count == containerCount)
        }
        harness.goal(list, under: 10_000_000, "listing \(containerCount) containers")
        try await runtime.shutdown()

        let creation = try await harness.measureAsync("runtime creation (\(containerCount) containers)") {
            try await make().shutdown()
        }
        harness.goal(creation, under: 50_000_000, "runtime creation")
        let refresh = try await harness.measureAsync("creation + refresh after reboot (\(containerCount) containers)") {
            unlink(root + "/tmp/alive")
            let made = try await make()
            precondition(made.didRefresh)
            try await made.shutdown()
        }
        harness.goal(refresh, under: 1_000_000_000, "refresh of \(containerCount) containers")
        return harness
    }
}
