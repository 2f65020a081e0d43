import Foundation
import ProcessSpawn
import Testing

#if canImport(Glibc)
import Glibc
#endif

// What the test targets that run real processes share: finding peers and built
// programs, temporary sockets, and starting and stopping child processes without
// blocking a task thread.

/// Whether a test may skip for a missing dependency: never under CI, where a missing
/// dependency is a failure.
public enum Environment {
    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// The first executable named `name` on PATH or in the usual places.
    public static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// A binary this package builds, next to the test bundle.
    public static func builtProduct(_ name: String) -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = bundle.appending(path: name).path
        if access(candidate, X_OK) != 0 {
            // Under some runners argv[0] is the xctest helper; fall back to the build dir.
            candidate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appending(path: ".build/debug/\(name)").path
        }
        return candidate
    }

    public static let pythonVarlink: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import varlink"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    public static let goCertification = executable("varlink-go-certification")

    /// python-podman 1.6 (PyPI `podman==1.6.0`), podman 1.x's client library.
    public static let pythonPodman: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import collections, collections.abc; collections.MutableMapping = collections.abc.MutableMapping; import podman",
        ]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Records why a peer test cannot run: an issue under CI, a skip note elsewhere.
    /// Returns true when the test should go on.
    public static func require(_ available: Bool, _ what: String) -> Bool {
        if available { return true }
        if isCI {
            Issue.record("missing dependency under CI: \(what) (run scripts/setup)")
        } else {
            print("skipping: \(what) is not installed (run scripts/setup)")
        }
        return false
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A unique short socket path (sun_path holds 107 bytes).
public func temporarySocketPath(_ tag: String = "t") -> String {
    let directory = "/tmp/podlink-tests"
    mkdir(directory, 0o755)
    return "\(directory)/\(tag)-\(getpid())-\(UInt32.random(in: 0 ... .max)).sock"
}

/// Calls `body` with `path` as a unix socket address (for connect or bind).
public func withUnixSocketAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
}

/// Whether something accepts connections on the unix socket `path` (a socket file left by
/// a crashed server exists but refuses them).
/// Waits until a daemon that `process` started accepts on `socket` (connectable, not
/// merely present: a socket file left by a crash is there already).
public func waitUntilAccepting(_ socket: String, started process: ChildProcess, what: String) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while !unixSocketAccepts(socket) {
        guard ContinuousClock.now < deadline, process.process.isRunning else {
            throw TestFailure("\(what) did not come up on \(socket)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

public func unixSocketAccepts(_ path: String) -> Bool {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    return withUnixSocketAddress(path) { connect(descriptor, $0, $1) } == 0
}

public func waitForSocket(_ path: String, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while access(path, F_OK) != 0 {
        guard ContinuousClock.now < deadline else {
            throw TestFailure("\(path) did not appear within \(timeout)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A program run as a child process of the tests.
public final class ChildProcess: @unchecked Sendable {
    public let process: Process

    private init(process: Process) {
        self.process = process
    }

    /// Starts `command` in the background; its output goes to the test log.
    public static func start(_ command: [String]) throws -> ChildProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        try process.run()
        return ChildProcess(process: process)
    }

    /// Stops it: SIGTERM, then SIGKILL if it is still there after a second. The test
    /// runner may block SIGTERM, and children inherit that mask, so SIGTERM alone is not
    /// enough. Never blocks a task thread.
    /// SIGTERM, then SIGKILL if it is still running after `grace`.
    public func stop(grace: Duration = .seconds(1)) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs `body` with `command` started, and stops it afterwards.
    public static func with<T>(_ command: [String], _ body: () async throws -> T) async throws -> T {
        let child = try start(command)
        do {
            let result = try await body()
            await child.stop()
            return result
        } catch {
            await child.stop()
            throw error
        }
    }

    /// Waits up to `timeout` for it to exit on its own; true if it did.
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }
}

/// What a run of the `varlink` tool did.
public struct ToolOutput: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var description: String { "exit \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Runs the built `varlink` (or another program) to completion.
public enum Tool {
    public static let path = Environment.builtProduct("varlink")

    public static func varlink(_ arguments: [String], stdin: String? = nil) async throws -> ToolOutput {
        try await run([path] + arguments, stdin: stdin)
    }

    /// Runs `command` with `stdin` as its input (/dev/null when nil), collecting stdout and
    /// stderr in files, and waits on a plain thread so that no task thread blocks while
    /// the servers under test need them.
    public static func run(_ command: [String], stdin: String? = nil) async throws -> ToolOutput {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try runBlocking(command, stdin: stdin) }) }
            thread.start()
        }
    }

    private static func runBlocking(_ command: [String], stdin: String?) throws -> ToolOutput {
        let base = "/tmp/podlink-tests/out-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        mkdir("/tmp/podlink-tests", 0o755)
        if let stdin { try stdin.write(toFile: base + ".in", atomically: false, encoding: .utf8) }
        defer {
            unlink(base + ".in")
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let input = open(stdin == nil ? "/dev/null" : base + ".in", O_RDONLY | O_CLOEXEC)
        let output = open(base + ".out", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errors = open(base + ".err", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer {
            close(input)
            close(output)
            close(errors)
        }
        // posix_spawn with nothing of ours but the three descriptors: a program that leaves
        // a daemon behind (tmux) leaves it holding none of the test process's files.
        // A bare program name is looked up on PATH, as a shell would.
        let arguments = command[0].contains("/") ? command : ["/usr/bin/env"] + command
        let pid = try ProcessSpawn.spawn(arguments, descriptors: [(input, 0), (output, 1), (errors, 2)])
        let status = ProcessSpawn.blockingWait(pid)
        return ToolOutput(
            status: status,
            stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        )
    }
}


/// The kernel's mount table as this process sees it. Read with read(2) until end of
/// file: procfs hands it out a page per read, and Foundation's `String(contentsOfFile:)`
/// stops after the first short read, so whatever lies past the first 4 KiB (the mounts a
/// test made last) would be missing.
public enum MountTable {
    /// This process's table, or that of `process` (a pid: another mount namespace's).
    public static func read(process: String = "self") -> String {
        let descriptor = open("/proc/\(process)/mountinfo", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        var table: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            table += buffer[..<count]
        }
        return String(decoding: table, as: UTF8.self)
    }

    /// The mount points in the table.
    public static func mountPoints() -> [String] {
        read().split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        }
    }
}
