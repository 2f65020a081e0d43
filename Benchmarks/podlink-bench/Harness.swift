import Foundation

/// A small timing harness: runs an operation in batches, reports the median time per
/// operation with the spread across batches, and compares operations measured in the
/// same run. Ratios from one run are what the docs report: absolute times on shared
/// machines drift, ratios much less.
struct Harness {
    struct Result {
        var name: String
        /// Nanoseconds per operation, one value per batch, sorted.
        var perOperation: [Double]

        var median: Double { perOperation[perOperation.count / 2] }
        var p10: Double { perOperation[perOperation.count / 10] }
        var p90: Double { perOperation[min(perOperation.count - 1, perOperation.count * 9 / 10)] }
    }

    var batches = 15
    var minimumBatchTime: Duration = .milliseconds(40)
    private(set) var results: [Result] = []

    /// Measures `body`, which performs one operation per call.
    @discardableResult
    mutating func measure(_ name: String, _ body: () throws -> Void) rethrows -> Result {
        // Calibrate: find how many operations fill a batch.
        let clock = ContinuousClock()
        var count = 1
        while true {
            let elapsed = try clock.measure { for _ in 0..<count { try body() } }
            if elapsed >= minimumBatchTime || count >= 1 << 24 { break }
            count *= 2
        }
        var samples: [Double] = []
        for _ in 0..<batches {
            let elapsed = try clock.measure { for _ in 0..<count { try body() } }
            samples.append(Double(elapsed.components.attoseconds) / 1e9 / Double(count) + Double(elapsed.components.seconds) * 1e9 / Double(count))
        }
        return record(name, samples)
    }

    /// Writes `samples`, one per line, to $PODLINK_BENCH_OUT/<file>.txt (default
    /// .build/bench), where scripts/bench-chart reads them.
    static func writeSamples(_ samples: [Double], file: String, format: String) {
        let directory = ProcessInfo.processInfo.environment["PODLINK_BENCH_OUT"] ?? ".build/bench"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = samples.map { String(format: format, $0) }.joined(separator: "\n") + "\n"
        try? text.write(toFile: "\(directory)/\(file).txt", atomically: true, encoding: .utf8)
    }

    /// `measure` for async operations (the runtime's calls).
    @discardableResult
    mutating func measureAsync(_ name: String, _ body: () async throws -> Void) async rethrows -> Result {
        let clock = ContinuousClock()
        var count = 1
        while true {
            let start = clock.now
            for _ in 0..<count { try await body() }
            if clock.now - start >= minimumBatchTime || count >= 1 << 24 { break }
            count *= 2
        }
        var samples: [Double] = []
        for _ in 0..<batches {
            let start = clock.now
            for _ in 0..<count { try await body() }
            let elapsed = clock.now - start
            samples.append((Double(elapsed.components.seconds) * 1e18 + Double(elapsed.components.attoseconds)) / 1e9 / Double(count))
        }
        return record(name, samples)
    }

    @discardableResult
    mutating func record(_ name: String, _ samples: [Double]) -> Result {
        let result = Result(name: name, perOperation: samples.sorted())
        results.append(result)
        // Every batch's time per operation (ns), in a file named after the measurement.
        Self.writeSamples(
            result.perOperation, file: String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(60)),
            format: "%.0f")
        print(String(format: "  %-58@ median %@  (p10 %@, p90 %@)", name as NSString, format(result.median), format(result.p10), format(result.p90)))
        return result
    }

    /// Prints whether `result`'s median is under `limit` nanoseconds.
    func goal(_ result: Result, under limit: Double, _ label: String) {
        print("  goal: \(label) under \(format(limit)): \(result.median < limit ? "met" : "NOT met") (\(format(result.median)))")
    }

    func format(_ nanoseconds: Double) -> String {
        switch nanoseconds {
        case ..<1_000: String(format: "%.0f ns", nanoseconds)
        case ..<1_000_000: String(format: "%.1f µs", nanoseconds / 1_000)
        case ..<1_000_000_000: String(format: "%.2f ms", nanoseconds / 1_000_000)
        default: String(format: "%.2f s", nanoseconds / 1_000_000_000)
        }
    }

    /// Prints how many times faster `fast` is than `slow`, by medians.
    func ratio(_ fast: Result, over slow: Result, goal: Double? = nil) {
        let ratio = slow.median / fast.median
        var line = String(format: "  ratio: %@ is %.2fx %@", fast.name, ratio, slow.name)
        if let goal { line += String(format: " (goal: at least %.1fx: %@)", goal, ratio >= goal ? "met" : "NOT met") }
        print(line)
    }
}
