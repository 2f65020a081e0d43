import Foundation

/// What podman calls a container's health: the outcome of its healthcheck command,
/// kept in the container's run directory (it describes this boot's process only).
public struct HealthState: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case starting, healthy, unhealthy
    }

    public struct Check: Sendable, Codable, Equatable {
        public var start: Date
        public var end: Date
        /// The command's exit code; 1 for any failure of the command, -1 for a timeout
        /// and 125 when it could not be run (podman's codes).
        public var exitCode: Int
        /// The first 500 bytes of what it printed.
        public var output: String
    }

    public var status: Status
    public var failingStreak: Int
    /// The last five checks, oldest first.
    public var log: [Check]

    public static let started = HealthState(status: .starting, failingStreak: 0, log: [])
}

extension Runtime {
    /// The checks kept per container, as podman keeps them.
    static let healthcheckLogLength = 5

    func healthFile(_ id: String) -> String { runDirectory(id) + "/healthcheck.json" }

    /// The container's health, or nil when it has no healthcheck (or never ran this boot).
    public func health(of id: String) -> HealthState? {
        guard let bytes = (try? FileSystem.read(healthFile(id))) ?? nil else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(HealthState.self, from: Data(bytes))
    }

    func writeHealth(_ health: HealthState, id: String) throws(LibpodError) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let data: Data
        do { data = try encoder.encode(health) } catch { throw .encoding(what: "the health of \(id.prefix(12))", cause: "\(error)") }
        try FileSystem.writeAtomically(healthFile(id), Array(data))
    }

    /// podman healthcheck run: runs the container's healthcheck command in it now and
    /// records the outcome. Returns whether this check passed; the container becomes
    /// unhealthy only after `retries` failures in a row outside its start period.
    @discardableResult
    public func runHealthcheck(_ idOrName: String) async throws(LibpodError) -> (passed: Bool, health: HealthState) {
        let container = try await self.container(idOrName)
        guard let healthcheck = container.config.healthcheck else {
            throw .invalidArgument("container \(container.id.prefix(12)) has no healthcheck; create it with one (--health-cmd)")
        }
        guard container.state.status == .running else {
            throw .invalidState(id: container.id, state: container.state.status, operation: "run the healthcheck of")
        }
        let start = Date()
        var exitCode: Int
        var output = ""
        do throws(LibpodError) {
            let user = try ResolvedUser.resolve(container.config.user, groupAdd: container.config.security.groupAdd, rootfs: container.state.mountPoint)
            let result = try await ociCommand(for: container).exec(
                container.id, command: healthcheck.command, environment: container.config.env, user: user,
                workingDirectory: container.config.workingDir, timeout: .milliseconds(Int64(healthcheck.timeout * 1000)))
            if let result {
                exitCode = result.status == 0 ? 0 : 1
                output = result.standardOutput + result.standardError
            } else {
                exitCode = -1
                output = "healthcheck command exceeded timeout of \(healthcheck.timeout)s"
            }
        } catch {
            exitCode = 125
            output = error.description
        }
        let check = HealthState.Check(start: start, end: Date(), exitCode: exitCode, output: String(decoding: Array(output.utf8.prefix(500)), as: UTF8.self))
        let id = container.id
        let startPeriodEnds = (container.state.startedAt ?? start).addingTimeInterval(healthcheck.startPeriod)
        let health = try await locks.withContainerLock(id) { () async throws(LibpodError) -> HealthState in
            var health = self.health(of: id) ?? .started
            health.log = Array((health.log + [check]).suffix(Self.healthcheckLogLength))
            if exitCode == 0 {
                health.status = .healthy
                health.failingStreak = 0
            } else if start >= startPeriodEnds {
                health.failingStreak += 1
                if health.failingStreak >= healthcheck.retries { health.status = .unhealthy }
            }
            try writeHealth(health, id: id)
            return health
        }
        record(Event(type: .container, status: "health_status", id: id, name: container.name, attributes: ["health": health.status.rawValue]))
        return (exitCode == 0, health)
    }

    /// Runs the checks that are due: every running container with a healthcheck
    /// interval whose last check is that long ago (or that has none yet), at most
    /// `concurrency` at a time. The daemon calls this every second.
    public func runDueHealthchecks(concurrency: Int = 4) async {
        guard let all = try? await state.containers() else { return }
        let now = Date()
        let due = all.filter { container in
            guard container.state.status == .running, let healthcheck = container.config.healthcheck, healthcheck.interval > 0 else {
                return false
            }
            guard let last = health(of: container.id)?.log.last else { return true }
            return now.timeIntervalSince(last.start) >= healthcheck.interval
        }
        await withTaskGroup(of: Void.self) { group in
            for (index, container) in due.enumerated() {
                if index >= concurrency { await group.next() }
                group.addTask {
                    await self.bestEffort("the healthcheck of \(container.id.prefix(12))") { () async throws(LibpodError) in
                        _ = try await self.runHealthcheck(container.id)
                    }
                }
            }
        }
    }
}
