import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Our varlink server against the Go (0.4.0) and python (31.0.0) servers, all serving
/// org.varlink.certification, measured with the same client: a plain blocking socket
/// client, so that what is measured is the server. The call is
/// org.varlink.service.GetInfo, which every server answers the same way.
enum RPCBenchmarks {
    struct Server {
        var name: String
        var command: [String]
        var path: String
        /// Every latency (µs) goes to rpc-latency-<samples>.txt, for scripts/bench-chart.
        var samples: String
    }

    struct Figures {
        var name: String
        var sequentialCallsPerSecond: Double
        var p50: Double
        var p99: Double
        var pinnedCallsPerSecond: Double
        var pinnedP50: Double
        var pinnedP99: Double
        var pipelinedCallsPerSecond: Double
        var pipelinedCPUPerCall: Double
        var concurrentCPUPerCall: Double
        /// This process's CPU per call in the same run: the 64 clients share the machine's
        /// CPUs with the server, so their cost bounds the throughput as much as its does.
        var concurrentClientCPUPerCall: Double
        var concurrentCallsPerSecond: Double
        var concurrentErrors: Int
        var idleRSS: Int
        var loadedRSS: Int
    }

    static let call = Array(#"{"method":"org.varlink.service.GetInfo"}"#.utf8) + [0]

    static func run(productsDirectory: URL) throws {
        print("RPC: org.varlink.service.GetInfo over one unix connection (same raw client for every server; sequential and pipelined: median of 5 rounds taken in turns)")
        let directory = "/tmp/podlink-bench-\(getpid())"
        mkdir(directory, 0o755)
        var servers = [
            Server(
                name: "podlink (Swift)",
                command: [productsDirectory.appending(path: "varlink-certification").path, "--varlink=unix:\(directory)/swift.sock"],
                path: "\(directory)/swift.sock",
                samples: "podlink"
            )
        ]
        if let go = which("varlink-go-certification") {
            servers.append(
                Server(name: "Go varlink 0.4.0", command: [go, "-varlink=unix:\(directory)/go.sock"], path: "\(directory)/go.sock", samples: "go"))
        } else {
            print("  (Go peer missing: apt-get install varlink-go)")
        }
        servers.append(
            Server(
                name: "python varlink 31.0.0",
                command: ["/usr/bin/env", "python3", "-m", "varlink.tests.test_certification", "--varlink=unix:\(directory)/py.sock"],
                path: "\(directory)/py.sock",
                samples: "python"
            )
        )

        // Every server runs from the start, and the sequential and pipelined runs take
        // turns, server after server, for `rounds` rounds: the machine's drift over the
        // minutes a benchmark takes then falls on all servers alike instead of on whichever
        // ran last. Each figure is the median of its rounds.
        var running: [(server: Server, process: Process)] = []
        defer {
            for (_, process) in running {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        for server in servers {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: server.command[0])
            process.arguments = Array(server.command.dropFirst())
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            guard waitForSocket(server.path) else {
                print("  \(server.name): did not start")
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                continue
            }
            running.append((server, process))
        }
        usleep(300_000)
        let idle = running.map { residentKilobytes($0.process.processIdentifier) }
        let rounds = 5
        var sequentialRates = Array(repeating: [Double](), count: running.count)
        var latencies = Array(repeating: [Double](), count: running.count)
        var pipelinedRates = Array(repeating: [Double](), count: running.count)
        var pipelinedCPU = Array(repeating: 0.0, count: running.count)
        for _ in 0..<rounds {
            for (index, (server, process)) in running.enumerated() {
                let (rate, _, _, samples) = try sequential(path: server.path, calls: 2_000)
                sequentialRates[index].append(rate)
                latencies[index] += samples
                // The server's own CPU time per call: unlike rates and latencies, it hardly
                // depends on how the kernel schedules the client against the server.
                let before = cpuMicroseconds(process.processIdentifier)
                pipelinedRates[index].append(try pipelined(path: server.path, calls: 20_000))
                pipelinedCPU[index] += cpuMicroseconds(process.processIdentifier) - before
            }
        }
        var results: [Figures] = []
        for (index, (server, process)) in running.enumerated() {
            let sorted = latencies[index].sorted()
            Harness.writeSamples(sorted, file: "rpc-latency-" + server.samples, format: "%.1f")
            let rate = median(sequentialRates[index])
            let (p50, p99) = (sorted[sorted.count / 2], sorted[sorted.count * 99 / 100])
            let pipelined = median(pipelinedRates[index])
            let pipelinedCPU = pipelinedCPU[index] / Double(rounds * 20_000)
            let beforeConcurrent = cpuMicroseconds(process.processIdentifier)
            let clientBefore = cpuMicroseconds(getpid())
            let (concurrentRate, errors) = concurrent(path: server.path, connections: 64, callsEach: 1_000)
            let concurrentCPU = (cpuMicroseconds(process.processIdentifier) - beforeConcurrent) / 64_000
            let concurrentClientCPU = (cpuMicroseconds(getpid()) - clientBefore) / 64_000
            let loaded = residentKilobytes(process.processIdentifier)
            // Again with the client and every server thread on one CPU: the round trip then
            // costs two context switches and no cross-CPU wake-up, whose price on these
            // virtual machines swings with where the kernel happens to place the threads.
            let (pinnedRate, pinnedP50, pinnedP99, _) = try onOneCPU(server: process.processIdentifier) {
                try sequential(path: server.path, calls: 5_000)
            }
            let idle = idle[index]
            let figures = Figures(
                name: server.name,
                sequentialCallsPerSecond: rate,
                p50: p50,
                p99: p99,
                pinnedCallsPerSecond: pinnedRate,
                pinnedP50: pinnedP50,
                pinnedP99: pinnedP99,
                pipelinedCallsPerSecond: pipelined,
                pipelinedCPUPerCall: pipelinedCPU,
                concurrentCPUPerCall: concurrentCPU,
                concurrentClientCPUPerCall: concurrentClientCPU,
                concurrentCallsPerSecond: concurrentRate,
                concurrentErrors: errors,
                idleRSS: idle,
                loadedRSS: loaded
            )
            results.append(figures)
            print(
                String(
                    format: "  %-22@ sequential %8.0f calls/s (p50 %5.0f µs, p99 %5.0f µs)  pipelined %8.0f calls/s  64 conns %8.0f calls/s (%d errors)  RSS idle %.1f MB, after load %.1f MB",
                    figures.name as NSString, rate, p50, p99, pipelined, concurrentRate, errors,
                    Double(idle) / 1024, Double(loaded) / 1024
                )
            )
            print(
                String(
                    format: "  %-22@ sequential on one CPU %8.0f calls/s (p50 %5.0f µs, p99 %5.0f µs)  server CPU per call: pipelined %.1f µs, 64 conns %.1f µs (clients' %.1f µs)",
                    figures.name as NSString, pinnedRate, pinnedP50, pinnedP99, pipelinedCPU, concurrentCPU, concurrentClientCPU
                )
            )
        }
        guard let ours = results.first(where: { $0.name == servers[0].name }) else {
            print("  our server did not run: no ratios")
            return
        }
        for peer in results.dropFirst() {
            print(
                String(
                    format: "  ratio vs %@: sequential %.2fx (on one CPU %.2fx), pipelined %.2fx, 64 connections %.2fx, p99 %.2fx lower",
                    peer.name as NSString,
                    ours.sequentialCallsPerSecond / peer.sequentialCallsPerSecond,
                    ours.pinnedCallsPerSecond / peer.pinnedCallsPerSecond,
                    ours.pipelinedCallsPerSecond / peer.pipelinedCallsPerSecond,
                    ours.concurrentCallsPerSecond / peer.concurrentCallsPerSecond,
                    peer.p99 / ours.p99
                )
            )
        }
        if let go = results.first(where: { $0.name.hasPrefix("Go") }) {
            let ratio = ours.sequentialCallsPerSecond / go.sequentialCallsPerSecond
            print(String(format: "  goal: sequential >= 2x Go: %.2fx %@", ratio, ratio >= 2 ? "met" : "NOT met"))
            let concurrentRatio = ours.concurrentCallsPerSecond / go.concurrentCallsPerSecond
            print(String(format: "  goal: 64 connections >= 2x Go: %.2fx %@ (server CPU per call %.1f µs, Go's %.1f µs)", concurrentRatio,
                concurrentRatio >= 2 ? "met" : "NOT met", ours.concurrentCPUPerCall, go.concurrentCPUPerCall))
        }
        print(String(format: "  goal: pipelined >= 400k calls/s: %.0f %@", ours.pipelinedCallsPerSecond, ours.pipelinedCallsPerSecond >= 400_000 ? "met" : "NOT met"))
        print(String(format: "  goal: p99 < 150 µs: %.0f µs %@", ours.p99, ours.p99 < 150 ? "met" : "NOT met"))
        print(String(format: "  goal: idle RSS < 15 MB: %.1f MB %@", Double(ours.idleRSS) / 1024, ours.idleRSS < 15 * 1024 ? "met" : "NOT met"))
        print("  goal: 64 connections x 1,000 calls with no error: \(ours.concurrentErrors == 0 ? "met" : "NOT met (\(ours.concurrentErrors) errors)")")
    }

    static func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }

    /// Runs `body` with the calling thread and every thread of `server` on the last CPU,
    /// then gives both all CPUs back. (taskset, since glibc's affinity calls are not
    /// visible to Swift without _GNU_SOURCE.)
    static func onOneCPU<T>(server: Int32, _ body: () throws -> T) throws -> T {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        // /proc/thread-self names this thread's id: "<pid>/task/<tid>".
        let thread = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"))?
            .split(separator: "/").last.map(String.init) ?? "\(getpid())"
        func setAffinity(_ cpuList: String) throws {
            for arguments in [["-a", "-c", "-p", cpuList, "\(server)"], ["-c", "-p", cpuList, thread]] {
                let taskset = Process()
                taskset.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
                taskset.arguments = arguments
                taskset.standardOutput = FileHandle.nullDevice
                try taskset.run()
                taskset.waitUntilExit()
                guard taskset.terminationStatus == 0 else { throw BenchmarkError("taskset \(arguments) failed") }
            }
        }
        try setAffinity("\(cpus - 1)")
        defer { try? setAffinity("0-\(cpus - 1)") }
        return try body()
    }

    // MARK: Clients

    /// One call at a time; returns calls/s, the p50/p99 latency in µs, and every latency.
    static func sequential(path: String, calls: Int) throws -> (Double, Double, Double, [Double]) {
        let socket = try connect(path)
        defer { close(socket) }
        var reader = Reader(socket: socket)
        for _ in 0..<200 {  // warm-up
            write(socket, call)
            _ = reader.skip()
        }
        var latencies: [Double] = []
        latencies.reserveCapacity(calls)
        let clock = ContinuousClock()
        let started = clock.now
        for _ in 0..<calls {
            let elapsed = clock.measure {
                write(socket, call)
                _ = reader.skip()
            }
            latencies.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        let total = clock.now - started
        latencies.sort()
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        return (Double(calls) / seconds, latencies[calls / 2], latencies[calls * 99 / 100], latencies)
    }

    /// All calls written by one thread while another reads the replies.
    static func pipelined(path: String, calls: Int) throws -> Double {
        let socket = try connect(path)
        defer { close(socket) }
        let batch = Array((0..<100).map { _ in call }.joined())
        let clock = ContinuousClock()
        let started = clock.now
        let writer = Thread {
            for _ in 0..<(calls / 100) { write(socket, batch) }
        }
        writer.start()
        var reader = Reader(socket: socket)
        for _ in 0..<calls { _ = reader.skip() }
        let total = clock.now - started
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        return Double(calls) / seconds
    }

    /// `connections` clients at once, each making `callsEach` sequential calls.
    static func concurrent(path: String, connections: Int, callsEach: Int) -> (Double, Int) {
        let errors = ErrorCounter()
        let group = DispatchGroup()
        let clock = ContinuousClock()
        let started = clock.now
        for _ in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                guard let socket = try? connect(path) else {
                    errors.add(callsEach)
                    return
                }
                defer { close(socket) }
                var reader = Reader(socket: socket)
                for _ in 0..<callsEach {
                    write(socket, call)
                    guard let reply = reader.next(), !reply.contains("\"error\"") else {
                        errors.add(1)
                        continue
                    }
                }
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
        group.wait()
        let total = clock.now - started
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        return (Double(connections * callsEach) / seconds, errors.value)
    }

    final class ErrorCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add(_ n: Int) { lock.withLock { count += n } }
        var value: Int { lock.withLock { count } }
    }

    /// Reads NUL-terminated replies. It has to outrun every server it measures, so it
    /// keeps one receive buffer, finds NULs with memchr and makes a String only when
    /// asked: a client that allocates per reply caps the pipelined figure itself.
    struct Reader {
        let socket: Int32
        private var buffer = [UInt8](repeating: 0, count: 1 << 20)
        private var start = 0
        private var end = 0

        init(socket: Int32) { self.socket = socket }

        /// Skips to the end of the next message; false when the connection ends.
        mutating func skip() -> Bool {
            nextRange() != nil
        }

        /// The next NUL-terminated message, or nil when the connection ends.
        mutating func next() -> String? {
            guard let range = nextRange() else { return nil }
            return String(decoding: buffer[range], as: UTF8.self)
        }

        private mutating func nextRange() -> Range<Int>? {
            while true {
                let (from, to) = (start, end)
                let found: Int? = buffer.withUnsafeBytes { bytes in
                    guard to > from, let hit = memchr(bytes.baseAddress! + from, 0, to - from) else { return nil }
                    return UnsafeRawPointer(hit) - bytes.baseAddress!
                }
                if let found {
                    start = found + 1
                    return from..<found
                }
                if start > 0 {
                    // Move the partial message to the front.
                    let pending = end - start
                    buffer.withUnsafeMutableBytes { bytes in
                        _ = memmove(bytes.baseAddress!, bytes.baseAddress! + start, pending)
                    }
                    start = 0
                    end = pending
                }
                if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
                let filled = end
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + filled, $0.count - filled, 0) }
                if count <= 0 { return nil }
                end += count
            }
        }
    }

    static func connect(_ path: String) throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw BenchmarkError("cannot connect to \(path)")
        }
        return descriptor
    }

    /// User plus system CPU time of `pid` so far, in µs (/proc/PID/stat counts clock ticks).
    static func cpuMicroseconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ", options: .backwards)
        else { return 0 }
        // Fields after the command name start at field 3; utime and stime are 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) * 1e6 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func write(_ socket: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    static func waitForSocket(_ path: String) -> Bool {
        for _ in 0..<500 {
            if let socket = try? connect(path) {
                close(socket)
                return true
            }
            usleep(20_000)
        }
        return false
    }

    /// VmRSS of `pid` in kB.
    static func residentKilobytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    static func which(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where access("\(directory)/\(name)", X_OK) == 0 {
            return "\(directory)/\(name)"
        }
        return nil
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
