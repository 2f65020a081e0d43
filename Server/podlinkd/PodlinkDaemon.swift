import ArgumentParser
import Libpod
import Logging
import PodlinkServer
import Varlink
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// podlinkd: creates the runtime once (so a refresh after a reboot happens here, at
/// start, and shows in GetEvents), then serves io.podman and org.varlink.service.
@main
struct PodlinkDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podlinkd",
        abstract: "Serve podman's io.podman varlink interface on Podlink's runtime.",
        discussion: """
            Listens on unix:/run/podlink/io.podman as root, unix:$XDG_RUNTIME_DIR/podlink/io.podman \
            rootless, or the ADDRESS given; under systemd socket activation on the socket it is handed. \
            Containers run under conmon and outlive the daemon.
            """)

    @Argument(help: "Address to serve on (unix:/path, unix:@abstract, tcp:host:port).")
    var address: String?

    @Option(help: "Exit after this many milliseconds with no connection and no open call (0 = never).")
    var timeout: Int = 0

    @Option(help: "Configuration file (podlink.conf); must exist. Default: the standard locations.")
    var config: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(
        name: .customLong("allow-uid"),
        help: "Serve only this user (repeatable), besides the daemon's own; others get PermissionDenied. Checked with SO_PEERCRED.")
    var allowedUIDs: [UInt32] = []

    @Option(
        name: .customLong("allow-gid"),
        help: "Serve only users whose primary group is this (repeatable), besides the daemon's own user.")
    var allowedGIDs: [UInt32] = []

    /// The socket is root's and its group's (mode 0660): anyone else cannot even
    /// connect. Rootless, the directory under XDG_RUNTIME_DIR is the user's alone.
    static func defaultAddress() -> String {
        let namespace = UserNamespace.current
        if !namespace.isRootless { return "unix:/run/podlink/io.podman;mode=0660" }
        let environment = RuntimeConfig.processEnvironment()
        let base = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/user/\(namespace.hostUID)"
        return "unix:\(base)/podlink/io.podman"
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "podlinkd")
        do {
            _ = try await RootlessEntry.enter(arguments: CommandLine.arguments, logger: logger)
        } catch {
            logger.critical("cannot enter the rootless user namespace: \(error)")
            throw ExitCode.failure
        }

        // Socket activation first: the socket we are handed is the one to serve.
        let listener: VarlinkServer.Listener
        if let activated = SocketActivation.takeVarlinkSocket() {
            listener = activated.listener
        } else {
            let text = address ?? Self.defaultAddress()
            let parsed: VarlinkAddress
            do { parsed = try VarlinkAddress(text) } catch { throw ValidationError("invalid address \"\(text)\": \(error)") }
            if case .unix(let path, _) = parsed, !path.hasPrefix("@") {
                let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
                if !directory.isEmpty { mkdirAll(directory) }
            }
            listener = .address(parsed)
        }

        let runtime: Runtime
        do {
            runtime = try await Runtime.create(configFile: config.map { .file($0) } ?? .standard)
        } catch {
            logger.critical("cannot create the runtime: \(error)")
            throw ExitCode.failure
        }
        logger.info("runtime ready", metadata: [
            "oci-runtime": "\(runtime.ociRuntime.path)", "conmon": "\(runtime.conmon.path)",
            "state": "\(runtime.config.stateType.rawValue)", "static-dir": "\(runtime.config.staticDir)",
            "refreshed": "\(runtime.didRefresh)",
        ])

        var configuration = VarlinkServer.Configuration()
        configuration.idleTimeout = timeout > 0 ? .milliseconds(timeout) : nil
        configuration.logger = Logger(label: "podlinkd.varlink")
        if !allowedUIDs.isEmpty || !allowedGIDs.isEmpty {
            configuration.allowedPeers = VarlinkPeerPolicy(uids: Set(allowedUIDs), gids: Set(allowedGIDs))
        }
        let service = VarlinkService(
            info: VarlinkServiceInfo(
                vendor: "Podlink", product: "podlinkd", version: PodmanService.version, url: "https://github.com/podlink/podlink"),
            interfaces: [
                PodmanService(runtime: runtime, address: address ?? Self.defaultAddress()).varlinkInterface,
                PodlinkService(runtime: runtime).varlinkInterface,
            ],
            unexpectedError: { error, _ in
                // Whatever slips through the mapping still answers with an io.podman error.
                VarlinkError(name: "io.podman.ErrorOccurred", parameters: ["reason": .string(String(describing: error))])
            })
        let server = VarlinkServer(service: service, configuration: configuration)
        let signals = SignalHandlers(on: [SIGTERM, SIGINT]) { server.shutdown() }
        defer { signals.cancel() }

        // Exited containers are cleaned up (--rm ones removed, restart policies applied)
        // even when nobody asks, the heap's free pages go back to the kernel, and due
        // healthchecks run.
        let reaper = Task {
            var lastSweep = ContinuousClock.now
            var freeMemory = FreeMemoryRelease(every: .seconds(30))
            while !Task.isCancelled {
                await runtime.reapExitedContainers()
                // Files sent for a call that never came (the client went away).
                if ContinuousClock.now - lastSweep > .seconds(60) {
                    runtime.transfers.sweep()
                    lastSweep = .now
                }
                freeMemory.releaseIfDue()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        let healthchecks = Task {
            while !Task.isCancelled {
                await runtime.runDueHealthchecks()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        defer { healthchecks.cancel() }
        do {
            try await server.run(on: listener) {
                SocketActivation.notify("READY=1")
                logger.info("serving io.podman", metadata: ["address": "\(address ?? Self.defaultAddress())"])
            }
        } catch {
            logger.critical("cannot serve: \(error)")
            reaper.cancel()
            try? await runtime.shutdown()
            throw ExitCode.failure
        }
        SocketActivation.notify("STOPPING=1")
        reaper.cancel()
        // Containers keep running: they belong to conmon, not to the daemon.
        try? await runtime.shutdown()
        logger.info("stopped")
    }

    private func mkdirAll(_ path: String) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            mkdir(current, 0o755)
        }
    }
}
