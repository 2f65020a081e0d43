import Dispatch
import NIOCore
import NIOPosix
import Synchronization
import Varlink
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// One connection to a service for the length of a command: to an address, or to a
/// service the tool started with -A or -b.
struct Session {
    let connection: VarlinkConnection
    /// The started service, when there is one.
    let child: VarlinkChildService?
    /// For messages: the address, or the command that was started.
    let peer: String

    /// One event loop thread is all a command needs; it lives until the process exits.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Connects to `address`, or starts the service -A/-b names. Starts the --timeout
    /// clock, which also covers connecting.
    /// With no address and no -A/-b, `interface` is looked up through org.varlink.resolver.
    static func open(address: String?, interface: String? = nil, options: ConnectionOptions) async throws -> Session {
        Watchdog.start(seconds: options.timeout)
        if options.startsService, let address {
            throw ToolFailure(.usage, "an address (\(address)) and -A/-b exclude each other; give one of them")
        }
        if let command = options.activate {
            let child: VarlinkChildService
            do {
                child = try VarlinkChildService.activate(command: command)
            } catch {
                throw ToolFailure(.cannotConnect, "cannot start '\(command)': \(error)")
            }
            ChildServices.register(child)
            let connection = try await connect(to: child.address!, peer: command, child: child)
            return Session(connection: connection, child: child, peer: command)
        }
        if let command = options.bridge {
            let started: (service: VarlinkChildService, socket: Int32)
            do {
                started = try VarlinkChildService.bridge(command: command)
            } catch {
                throw ToolFailure(.cannotConnect, "cannot start '\(command)': \(error)")
            }
            let connection = try await VarlinkConnection.adopt(socket: started.socket, group: eventLoops)
            return Session(connection: connection, child: started.service, peer: command)
        }
        var target = address
        if target == nil { target = try await resolve(interface, through: options.resolver) }
        guard let address = target else {
            throw ToolFailure(.usage, "no address given: pass ADDRESS (e.g. unix:/run/org.example.sock), or -A CMD or -b CMD")
        }
        let parsed = try AddressArgument.parse(address)
        return Session(connection: try await connect(to: parsed, peer: address), child: nil, peer: address)
    }

    /// Asks the resolver service where `interface` is served.
    private static func resolve(_ interface: String?, through resolver: String) async throws -> String? {
        guard let interface else { return nil }
        let parsed = try AddressArgument.parse(resolver)
        let connection = try await connect(to: parsed, peer: "the resolver at \(resolver)")
        defer { Task { await connection.close() } }
        let reply = try await connection.call(
            method: "org.varlink.resolver.Resolve",
            parameters: JSONValue.object(["interface": .string(interface)]),
            flags: []
        )
        guard let reply else { throw ToolFailure(.protocolError, "the resolver sent no reply") }
        if let error = reply.error {
            throw ToolFailure(.cannotConnect, "the resolver at \(resolver) cannot find \(interface): \(error) \(reply.parameterValue.jsonText)")
        }
        guard case .string(let address)? = reply.parameterValue["address"] else {
            throw ToolFailure(.protocolError, "the resolver's reply has no address: \(reply.parameterValue.jsonText)")
        }
        return address
    }

    private static func connect(to address: VarlinkAddress, peer: String, child: VarlinkChildService? = nil) async throws
        -> VarlinkConnection
    {
        do {
            return try await VarlinkConnection.connect(to: address, group: eventLoops)
        } catch {
            if let child, let status = await exitStatus(of: child) {
                throw ToolFailure(.cannotConnect, "'\(peer)' exited with status \(status) before it accepted the connection")
            }
            throw ToolFailure(.cannotConnect, "cannot connect to \(peer): \(describe(connectError: error))")
        }
    }

    /// NIO's errors name the system call; people want the reason.
    private static func describe(connectError error: any Error) -> String {
        switch error {
        case let error as IOError: String(cString: strerror(error.errnoCode))
        case let error as NIOConnectionError:
            error.connectionErrors.first.map { describe(connectError: $0.error) }
                ?? error.dnsAError.map { "cannot resolve \(error.host): \($0)" } ?? "\(error)"
        default: "\(error)"
        }
    }

    /// The child's exit status, waiting a moment for it to be reaped; nil if it runs.
    private static func exitStatus(of child: VarlinkChildService) async -> Int32? {
        for _ in 0..<20 where child.exitStatus == nil {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return child.exitStatus
    }

    /// Sends one call and returns its reply (nil for oneway). Errors become tool failures
    /// with their exit status; the reply may still be an error reply.
    func call(_ method: String, _ parameters: JSONValue, flags: VarlinkCallFlags = []) async throws -> VarlinkReply? {
        do {
            let reply = try await connection.call(method: method, parameters: parameters, flags: flags)
            Watchdog.restart()
            return reply
        } catch {
            throw await explain(error)
        }
    }

    /// A call whose reply must not be an error: an error reply is reported and ends the
    /// command with the remote-error status.
    func callExpectingSuccess(_ method: String, _ parameters: JSONValue = .object([:])) async throws -> VarlinkReply {
        guard let reply = try await call(method, parameters) else {
            throw ToolFailure(.protocolError, "no reply to \(method)")
        }
        if reply.error != nil { throw RemoteErrorReport.report(reply) }
        return reply
    }

    /// Calls `method` with `upgrade`; `body` gets the reply and the raw connection. An
    /// error reply is returned instead (the connection stays varlink).
    func upgrade(
        _ method: String, _ parameters: JSONValue, _ body: @escaping @Sendable (VarlinkReply, VarlinkRawConnection) async throws -> Void
    ) async throws -> VarlinkReply? {
        do {
            switch try await connection.upgrade(method: method, parameters: parameters, body) {
            case .upgraded: return nil
            case .refused(let reply): return reply
            }
        } catch {
            throw await explain(error)
        }
    }

    /// The replies of a `more` call (the caller restarts the --timeout clock on each).
    func stream(_ method: String, _ parameters: JSONValue) -> AsyncThrowingStream<VarlinkReply, any Error> {
        connection.stream(method: method, parameters: parameters)
    }

    func info() async throws -> (reply: JSONValue, interfaces: [String]) {
        let reply = try await callExpectingSuccess("org.varlink.service.GetInfo")
        let value = reply.parameterValue
        guard case .array(let names)? = value["interfaces"] else {
            throw ToolFailure(.protocolError, "invalid reply: GetInfo returned no interfaces")
        }
        return (value, names.compactMap(\.stringValue))
    }

    /// The description text of `interface`; an error reply (InterfaceNotFound) is reported.
    func interfaceDescription(_ interface: String) async throws -> String {
        let reply = try await callExpectingSuccess(
            "org.varlink.service.GetInterfaceDescription",
            .object(["interface": .string(interface)])
        )
        guard let description = reply.parameterValue["description"]?.stringValue else {
            throw ToolFailure(.protocolError, "invalid reply: GetInterfaceDescription returned no description")
        }
        return description
    }

    func close() async {
        await connection.close()
    }

    /// A lost connection to a started service usually means the command failed: say so.
    func explain(_ error: any Error) async -> any Error {
        guard let child, error is VarlinkConnectionClosed || error is IOError || error is ChannelError,
            let status = await Self.exitStatus(of: child)
        else { return error }
        return ToolFailure(.cannotConnect, "'\(peer)' exited with status \(status) before it replied")
    }
}

/// Prints an error reply the way the tool reports remote errors: `error: NAME` and the
/// parameters as JSON, on stderr.
enum RemoteErrorReport {
    static func report(_ reply: VarlinkReply) -> ToolFailure {
        let stream = Terminal.standardError
        let printer = JSONPrinter(layout: nil, for: stream)
        var text = stream.styled("error:", .error) + " " + (reply.error ?? "")
        if case .object(let parameters) = reply.parameterValue, !parameters.isEmpty {
            text += "\n" + printer.render(reply.parameterValue)
        }
        stream.write(text + "\n")
        return ToolFailure(.remoteError, nil)
    }
}

/// Services started with -A, stopped when the command ends however it ends: normally,
/// on a timeout, or on SIGINT/SIGTERM/SIGHUP.
enum ChildServices {
    private static let started = Mutex<[VarlinkChildService]>([])
    private static let signals = Mutex<SignalHandlers?>(nil)

    static func register(_ service: VarlinkChildService) {
        started.withLock { $0.append(service) }
        signals.withLock { handlers in
            guard handlers == nil else { return }
            handlers = SignalHandlers(on: [SIGINT, SIGTERM, SIGHUP]) {
                terminateAll()
                _exit(130)
            }
        }
    }

    static func terminateAll() {
        let services = started.withLock { services in
            defer { services.removeAll() }
            return services
        }
        for service in services { service.terminate() }
    }
}

/// `--timeout`: ends the process with the timeout status when no reply came in time.
/// A timer rather than per-call deadlines, so that it also covers connecting and starting
/// a service, and fires even if something blocks.
enum Watchdog {
    private static let state = Mutex<(timer: (any DispatchSourceTimer)?, seconds: Double)>((nil, 0))
    private static let queue = DispatchQueue(label: "varlink.watchdog")

    static func start(seconds: Double?) {
        guard let seconds, seconds > 0 else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler {
            Terminal.standardError.write("varlink: no reply within \(formatted(seconds))s (--timeout)\n")
            ChildServices.terminateAll()
            _exit(ExitStatus.timeout.rawValue)
        }
        timer.schedule(deadline: .now() + seconds)
        state.withLock { $0 = (timer, seconds) }
        timer.resume()
    }

    /// Starts the clock again (a reply came).
    static func restart() {
        state.withLock { state in
            state.timer?.schedule(deadline: .now() + state.seconds)
        }
    }

    /// Stops the clock (waiting on the user, not the service, from now on).
    static func stop() {
        state.withLock { state in
            state.timer?.cancel()
            state.timer = nil
        }
    }

    private static func formatted(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
