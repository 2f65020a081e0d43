import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// exec and attach through podlinkd, on crun and on runc: streams, exit codes, stdin,
/// detaching, and a terminal driven through tmux.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ExecAttachTests {
    enum OCIRuntime: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case crun, runc
        var testDescription: String { rawValue }
        var path: String? { Environment.executable(rawValue) }
    }

    /// Runs `body` with a daemon on `runtime` and a running busybox container named "box".
    static func withRunningContainer(_ runtime: OCIRuntime, _ body: (Daemon, PodmanClient) async throws -> Void) async throws {
        guard Environment.require(runtime.path != nil, runtime.rawValue) else { return }
        try await Daemon.with(runtime: runtime.path) { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.name = "box"
            options.network = "none"
            _ = try await client.create(image: "busybox", command: ["sleep", "1000"], options: options)
            try await client.start("box")
            try await body(daemon, client)
        }
    }

    @Test(arguments: OCIRuntime.allCases)
    func execKeepsStdoutAndStderrApartAndReportsExitCodes(_ runtime: OCIRuntime) async throws {
        try await Self.withRunningContainer(runtime) { daemon, client in
            let both = try await client.execCollecting("box", command: ["sh", "-c", "echo out; echo err >&2; exit 7"])
            #expect(both.exitCode == 7)
            #expect(String(decoding: both.stdout, as: UTF8.self) == "out\n")
            #expect(String(decoding: both.stderr, as: UTF8.self) == "err\n")
            for (command, code) in [(["true"], 0), (["false"], 1), (["/etc"], 126), (["nosuchcommand"], 127), (["sh", "-c", "kill -9 $$"], 137)] {
                let run = try await client.execCollecting("box", command: command)
                #expect(run.exitCode == Int32(code), "\(command): \(run.exitCode) \(String(decoding: run.stderr, as: UTF8.self))")
            }
            let missing = try await client.execCollecting("box", command: ["nosuchcommand"])
            #expect(String(decoding: missing.stderr, as: UTF8.self).contains("nosuchcommand"), "the runtime's reason reaches stderr")
            // Options: environment, directory, user; and no input unless asked.
            var options = PodmanClient.ExecOptions()
            options.env = ["GREETING": "hello"]
            options.workingDirectory = "/tmp"
            options.user = "65534"
            let shown = try await client.execCollecting("box", command: ["sh", "-c", "echo $GREETING $(pwd) $(id -u); cat"], options: options)
            #expect(shown.exitCode == 0 && String(decoding: shown.stdout, as: UTF8.self) == "hello /tmp 65534\n", "\(shown)")
            #expect(daemon.execDirectories.isEmpty, "every session's directory went with it")
        }
    }

    @Test(arguments: OCIRuntime.allCases)
    func sixtyFourMiBGoThroughExecUnchanged(_ runtime: OCIRuntime) async throws {
        try await Self.withRunningContainer(runtime) { daemon, client in
            var data = [UInt8](repeating: 0, count: 64 << 20)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for index in data.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                data[index] = UInt8(truncatingIfNeeded: state >> 33)
            }
            let file = daemon.root + "/input"
            try Data(data).write(to: URL(fileURLWithPath: file))
            let expected = try await Tool.run(["sha256sum", file]).stdout.prefix(64)
            let hashed = try await client.execCollecting("box", command: ["sha256sum"], input: data)
            #expect(hashed.exitCode == 0)
            #expect(String(decoding: hashed.stdout, as: UTF8.self).prefix(64) == expected)
            // And back out: the same bytes, in order.
            let echoed = try await client.execCollecting("box", command: ["cat"], input: Array(data.prefix(8 << 20)))
            #expect(echoed.stdout == Array(data.prefix(8 << 20)))
        }
    }

    @Test func detachingReturnsAtOnceAndAttachingAgainSeesNewOutput() async throws {
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.network = "none"
            options.customize = { $0.interactive = true }
            let id = try await client.create(image: "busybox", command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"], options: options)
            let first = try await client.attach(id, start: true, interactive: true)
            var seen = ""
            for try await chunk in first.output {
                seen += String(decoding: chunk.bytes, as: UTF8.self)
                if seen.contains("tick 3") { break }
            }
            // At once: not when the container ends, which it never does by itself.
            let detachedAt = ContinuousClock.now
            // Typed: a key at a time.
            first.write([0x10])
            first.write([0x11])
            #expect(try await first.exitCode() == 0)
            #expect(ContinuousClock.now - detachedAt < .seconds(5), "detaching waited \(ContinuousClock.now - detachedAt)")
            #expect(try await client.containers().first { $0.id == id }?.status == "running")
            let again = try await client.attach(id, interactive: false)
            var later = ""
            for try await chunk in again.output {
                later += String(decoding: chunk.bytes, as: UTF8.self)
                if later.split(separator: "\n").count >= 2 { break }
            }
            let numbers = later.split(separator: "\n").compactMap { Int($0.split(separator: " ").last ?? "") }
            #expect(numbers.first ?? 0 > 3, "new output after the detach: \(later)")
            again.cancel()
            try await client.remove(id, force: true)
        }
    }

    @Test func startingAttachedLosesNoOutput() async throws {
        try await Daemon.with { daemon, client in
            for round in 0..<5 {
                var options = PodmanClient.CreateOptions()
                options.network = "none"
                options.removeWhenDone = true
                let id = try await client.create(image: "busybox", command: ["sh", "-c", "echo first \(round); echo second >&2; exit 3"], options: options)
                let process = try await client.attach(id, start: true)
                var stdout = ""
                var stderr = ""
                for try await chunk in process.output {
                    switch chunk {
                    case .stdout(let bytes): stdout += String(decoding: bytes, as: UTF8.self)
                    case .stderr(let bytes): stderr += String(decoding: bytes, as: UTF8.self)
                    }
                }
                #expect(stdout == "first \(round)\n" && stderr == "second\n")
                #expect(try await process.exitCode() == 3)
                #expect(try await client.exists(id) == false, "--rm: removed by the daemon before the exit code came")
            }
            let idle = try await client.create(image: "busybox", command: ["true"])
            await #expect(throws: IoPodman.InvalidState.self) { _ = try await client.attach(idle) }
        }
    }

    /// `podlink run -it ... sh` in a tmux pane: typing, the window's size, the exit code.
    @Test func aTerminalSessionThroughTmux() async throws {
        guard Environment.require(Environment.executable("tmux") != nil, "tmux (apt-get install tmux)") else { return }
        try await Daemon.with { daemon, client in
            let session = "podlink-" + daemon.root.split(separator: "/").last!
            let result = daemon.root + "/exit-code"
            let command = "\(Environment.builtProduct("podlink")) --url \(daemon.address) run -it --rm --network none busybox sh; echo $? > \(result)"
            // tmux through sh: sh reaps the tmux client, which Foundation's Process does not
            // always see end (the server it forks lives on).
            func tmux(_ arguments: String) async throws -> ToolOutput {
                try await Tool.run(["sh", "-c", "tmux -L \(session) \(arguments) </dev/null 2>&1"])
            }
            #expect(try await tmux("new-session -d -x 80 -y 24 '\(command)'").status == 0)
            defer { Task { _ = try? await tmux("kill-server") } }
            func screen() async throws -> String { try await tmux("capture-pane -p").stdout }
            func waitFor(_ text: String) async throws {
                let deadline = ContinuousClock.now + .seconds(15)
                while !(try await screen()).contains(text) {
                    guard ContinuousClock.now < deadline else { throw TestFailure("\"\(text)\" never showed; the screen:\n\(try await screen())") }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            try await waitFor("#")
            _ = try await tmux("send-keys 'echo hi-from-tmux' Enter")
            try await waitFor("\nhi-from-tmux")
            _ = try await tmux("resize-window -x 100 -y 30")
            try await Task.sleep(for: .milliseconds(300))
            _ = try await tmux("send-keys 'stty size' Enter")
            try await waitFor("30 100")
            _ = try await tmux("send-keys 'exit 3' Enter")
            let deadline = ContinuousClock.now + .seconds(15)
            while !FileManager.default.fileExists(atPath: result), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try String(contentsOfFile: result, encoding: .utf8) == "3\n")
            #expect(try await client.containers().isEmpty, "--rm")
        }
    }
}
