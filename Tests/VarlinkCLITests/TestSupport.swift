import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether a test may skip for a missing dependency: never under CI, where a missing
/// dependency is a failure.
enum Environment {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// The first executable named `name` on PATH or in the usual places.
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// A binary this package builds, next to the test bundle.
    static func builtProduct(_ name: String) -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = bundle.appending(path: name).path
        if access(candidate, X_OK) != 0 {
            // Under some runners argv[0] is the xctest helper; fall back to the build dir.
            candidate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appending(path: ".build/debug/\(name)").path
        }
        return candidate
    }

    static let pythonVarlink: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import varlink"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static let goCertification = executable("varlink-go-certification")

    /// Records why a peer test cannot run: an issue under CI, a skip note elsewhere.
    /// Returns true when the test should go on.
    static func require(_ available: Bool, _ what: String) -> Bool {
        if available { return true }
        if isCI {
            Issue.record("missing dependency under CI: \(what) (run scripts/setup)")
        } else {
            print("skipping: \(what) is not installed (run scripts/setup)")
        }
        return false
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A unique short socket path (sun_path holds 107 bytes).
func temporarySocketPath(_ tag: String = "t") -> String {
    let directory = "/tmp/podlink-tests"
    mkdir(directory, 0o755)
    return "\(directory)/\(tag)-\(getpid())-\(UInt32.random(in: 0 ... .max)).sock"
}

func waitForSocket(_ path: String, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while access(path, F_OK) != 0 {
        guard ContinuousClock.now < deadline else {
            throw TestFailure("\(path) did not appear within \(timeout)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A program run as a child process of the tests.
final class ChildProcess: @unchecked Sendable {
    let process: Process

    private init(process: Process) {
        self.process = process
    }

    /// Starts `command` in the background; its output goes to the test log.
    static func start(_ command: [String]) throws -> ChildProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        try process.run()
        return ChildProcess(process: process)
    }

    /// Stops it: SIGTERM, then SIGKILL if it is still there after a second. The test
    /// runner may block SIGTERM, and children inherit that mask, so SIGTERM alone is not
    /// enough. Never blocks a task thread.
    func stop() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<50 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits up to `timeout` for it to exit on its own; true if it did.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }
}

/// What a run of the `varlink` tool did.
struct ToolOutput: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)" }
}

/// Runs the built `varlink` (or another program) to completion.
enum Tool {
    static let path = Environment.builtProduct("varlink")

    static func varlink(_ arguments: [String], stdin: String? = nil) async throws -> ToolOutput {
        try await run([path] + arguments, stdin: stdin)
    }

    /// Runs `command` with `stdin` as its input (/dev/null when nil), collecting stdout and
    /// stderr in files, and waits on a plain thread so that no task thread blocks while
    /// the servers under test need them.
    static func run(_ command: [String], stdin: String? = nil) async throws -> ToolOutput {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try runBlocking(command, stdin: stdin) }) }
            thread.start()
        }
    }

    private static func runBlocking(_ command: [String], stdin: String?) throws -> ToolOutput {
        let base = "/tmp/podlink-tests/out-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        mkdir("/tmp/podlink-tests", 0o755)
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        process.standardOutput = output
        process.standardError = errors
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        try output.close()
        try errors.close()
        return ToolOutput(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        )
    }
}

/// The certification servers the tool is tested against.
enum Peer: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case podlink
    case python
    case go

    var testDescription: String { rawValue }

    /// The command serving certification on `path`, or nil (after recording why) when the
    /// peer is not installed.
    func command(path: String) -> [String]? {
        switch self {
        case .podlink:
            return [Environment.builtProduct("varlink-certification"), "--varlink=unix:\(path)"]
        case .python:
            guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0 (pip install varlink==31.0.0)")
            else { return nil }
            return ["python3", "-m", "varlink.tests.test_certification", "--varlink=unix:\(path)"]
        case .go:
            guard
                Environment.require(Environment.goCertification != nil, "varlink-go-certification (apt-get install varlink-go)"),
                let go = Environment.goCertification
            else { return nil }
            return [go, "-varlink=unix:\(path)"]
        }
    }
}

/// Runs `body` with a server started from `command(path)` listening on a fresh socket,
/// and stops the server afterwards. Does nothing when `command` returns nil.
func withServer(
    _ command: (String) -> [String]?,
    _ body: (_ address: String, _ server: ChildProcess) async throws -> Void
) async throws {
    let path = temporarySocketPath("cli")
    guard let command = command(path) else { return }
    let server = try ChildProcess.start(command)
    do {
        try await waitForSocket(path)
        try await body("unix:\(path)", server)
        await server.stop()
    } catch {
        await server.stop()
        throw error
    }
    unlink(path)
}

/// A certification server of `peer`.
func withServer(_ peer: Peer, _ body: (_ address: String) async throws -> Void) async throws {
    try await withServer({ peer.command(path: $0) }) { address, _ in try await body(address) }
}

/// python's streaming example service, org.example.more.
func withMoreServer(_ body: (_ address: String, _ server: ChildProcess) async throws -> Void) async throws {
    try await withServer({ path in
        guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0 (pip install varlink==31.0.0)")
        else { return nil }
        return ["python3", "-m", "varlink.tests.test_orgexamplemore", "--varlink=unix:\(path)"]
    }, body)
}

/// The repository's root, to find interface files.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
