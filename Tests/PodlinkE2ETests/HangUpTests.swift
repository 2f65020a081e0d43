import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Every method that waits, called by a client that hangs up in the middle: the daemon
/// keeps answering everyone else at once, does not spin, reaps every child, and the
/// container ends in a settled state (never left `stopping`).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct HangUpTests {
    enum Call: String, CaseIterable, Sendable {
        case stop, restart, wait, kill, removeForce, logs, events, exec, attach, stopPod, restartPod, removePodForce

        var onPod: Bool { [.stopPod, .restartPod, .removePodForce].contains(self) }
    }

    @Test(arguments: Call.allCases)
    func aClientThatHangsUpMidCallStallsNothing(_ call: Call) async throws {
        try await Daemon.with { daemon, client in
            // `sleep` as PID 1 has no handler for SIGTERM, so the kernel ignores it: a stop
            // waits out its whole timeout before SIGKILL.
            // The pod calls act on a pod whose infra container holds IPC and UTS (no network:
            // what is tested is the waiting, not CNI).
            var options = PodmanClient.CreateOptions()
            if call.onPod {
                try await client.createPod("hangup", share: ["ipc", "uts"])
                options.pod = "hangup"
            }
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", "echo started; exec sleep 1000"], options: options)
            try await client.start(id)
            let cpuBefore = daemon.cpuSeconds

            let leaving = try await daemon.client()
            // exec and attach run on connections of their own: hanging up is dropping those.
            let session: AttachedProcess? =
                switch call {
                case .exec: try await leaving.exec(id, command: ["sleep", "4242"], options: { var o = PodmanClient.ExecOptions(); o.interactive = true; return o }())
                case .attach: try await leaving.attach(id, interactive: true)
                default: nil
                }
            let abandoned = Task { [leaving] in
                switch call {
                case .stop: _ = try await leaving.api.stopContainer(name: id, timeout: Self.stopTimeout)
                case .restart: _ = try await leaving.api.restartContainer(name: id, timeout: Self.stopTimeout)
                case .wait: _ = try await leaving.api.waitContainer(name: id, interval: 250_000_000)
                case .kill: _ = try await leaving.api.killContainer(name: id, signal: 9)
                case .removeForce: _ = try await leaving.api.removeContainer(name: id, force: true, removeVolumes: false)
                case .logs:
                    for try await _ in leaving.logs(id, follow: true) {}
                case .events:
                    for try await _ in leaving.events(filters: [], since: "") {}
                case .exec, .attach:
                    _ = try await session?.exitCode()
                case .stopPod: _ = try await leaving.api.stopPod(name: "hangup", timeout: Self.stopTimeout)
                case .restartPod: _ = try await leaving.api.restartPod(name: "hangup")
                case .removePodForce: _ = try await leaving.api.removePod(name: "hangup", force: true)
                }
            }
            // Hang up while the call is under way (kill and remove finish in well under this;
            // they are hung up on as early as the others).
            try await Task.sleep(for: call == .kill || call == .removeForce ? .milliseconds(5) : .milliseconds(500))
            await leaving.close()
            session?.cancel()
            _ = await abandoned.result

            // Everyone else is answered at once, on every event loop, while the abandoned
            // call's work goes on. The bound leaves room for a machine busy with the other
            // suites; a loop held by the abandoned call would hold a probe for the rest of
            // the stop timeout.
            for _ in 0..<8 {
                let started = ContinuousClock.now
                let probe = try await daemon.client()
                _ = try await probe.api.getVersion()
                await probe.close()
                #expect(ContinuousClock.now - started < .seconds(4), "a new connection waited \(ContinuousClock.now - started)")
            }

            // The container settles where the call takes it.
            let expected: String
            switch call {
            case .stop, .kill, .stopPod: expected = "exited"
            case .restart, .wait, .logs, .events, .exec, .attach, .restartPod: expected = "running"
            case .removeForce, .removePodForce: expected = "gone"
            }
            var status = ""
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                do {
                    status = try await inspectState(client, id)["Status"] as? String ?? ""
                } catch is IoPodman.ContainerNotFound {
                    status = "gone"
                }
                let restarted = call != .restart ? true : try await restartCount(client, id) == 1
                if status == expected && restarted { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == expected, "\(call): the container is \(status), not \(expected)")
            if call == .exec {
                // The exec's process went with its caller, and so did its session.
                var left: [String] = []
                for _ in 0..<50 {
                    left = daemon.leftoversNowProcesses(matching: "sleep 4242") + daemon.execDirectories
                    if left.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(left.isEmpty, "left by an abandoned exec: \(left)")
            }

            // A stop that waits for a process ignoring SIGTERM must not burn that time.
            let cpu = daemon.cpuSeconds - cpuBefore
            #expect(cpu < 1.0, "the daemon used \(cpu) s of CPU during an abandoned \(call)")
            var zombies: [Int32] = []
            for _ in 0..<20 {
                zombies = daemon.zombieChildren
                if zombies.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(zombies.isEmpty, "unreaped children of podlinkd: \(zombies)")
            if call.onPod {
                var podStatus = ""
                for _ in 0..<100 {
                    podStatus = (try? await client.pod("hangup").status) ?? "gone"
                    if podStatus == (call == .removePodForce ? "gone" : call == .stopPod ? "Exited" : "Running") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(podStatus == (call == .removePodForce ? "gone" : call == .stopPod ? "Exited" : "Running"), "\(call): the pod is \(podStatus)")
                if podStatus != "gone" { try await client.removePod("hangup", force: true) }
            } else if status != "gone" {
                try await client.remove(id, force: true)
            }
        }
    }

    /// Long enough that a probe held by a blocked event loop waits well past the bound.
    static let stopTimeout = 10

    private func restartCount(_ client: PodmanClient, _ id: String) async throws -> Int {
        let inspect = try JSONSerialization.jsonObject(with: Data(try await client.inspect(id).utf8)) as? [String: Any]
        return inspect?["RestartCount"] as? Int ?? -1
    }
}

extension Daemon {
    /// Processes whose command line is `command`.
    func leftoversNowProcesses(matching command: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard Int32(entry) != nil, let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !raw.isEmpty else { return nil }
            let line = String(decoding: raw.dropLast().map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line == command ? "process \(entry): \(line)" : nil
        }
    }

    /// Exec sessions' directories under the daemon's run dirs.
    var execDirectories: [String] {
        let containers = tmpDir + "/containers"
        return ((try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? []).flatMap { id in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(containers)/\(id)/exec")) ?? []).map { "exec session \($0)" }
        }
    }

    /// The CPU time the daemon has used so far (user + system), in seconds.
    var cpuSeconds: Double {
        guard let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // After "pid (comm)": state is field 3, utime and stime fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Children of the daemon that exited and were never waited for.
    var zombieChildren: [Int32] {
        guard let pid else { return [] }
        var found: [Int32] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let end = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            if fields.count > 1, fields[0] == "Z", Int32(fields[1]) == pid { found.append(child) }
        }
        return found
    }
}
