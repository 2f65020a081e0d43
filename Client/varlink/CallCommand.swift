import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Varlink
import VarlinkIDL

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a method and print its reply as JSON.",
        discussion: """
            The address is everything before the last '/': varlink call unix:/run/x.sock/org.example.Method \
            '{"name":"value"}'. varlinkctl's form, varlink call ADDRESS METHOD [JSON], works too.

            Before sending, the tool fetches the interface description and checks the parameters against the \
            method's input (unknown fields, missing fields, wrong types); --no-validate skips that.

            The reply goes to stdout: pretty and coloured on a terminal, one line otherwise. An error reply \
            goes to stderr as 'error: NAME' and its parameters, and the exit status is 1.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: [.customShort("m"), .long], help: "Ask for several replies and print each as it arrives.")
    var more = false

    @Flag(help: "Print the replies of a --more call as one JSON array once the last has come (implies --more).")
    var collect = false

    @Flag(help: "Send the call without asking for a reply, and exit once it is sent.")
    var oneway = false

    @Flag(name: .customLong("no-validate"), help: "Send the parameters without checking them against the interface.")
    var noValidate = false

    @Flag(help: "Ask to upgrade the connection: after the reply (printed on stderr), stdin goes to the service and what it sends to stdout, as raw bytes.")
    var upgrade = false

    @Argument(
        help: ArgumentHelp("The method, INTERFACE.METHOD, after the service's address and a '/'.", valueName: "[address/]method"),
        completion: .custom(Completion.methodTarget)
    )
    var target: String

    @Argument(
        help: ArgumentHelp(
            "The parameters as a JSON object, or '-' to read them from stdin (not a terminal). Default: {}.",
            valueName: "json"
        )
    )
    var parameters: String?

    @Argument(help: .hidden)
    var varlinkctlParameters: String?

    func validate() throws {
        if oneway && (more || collect) {
            throw ValidationError("--oneway asks for no reply; it excludes --more and --collect.")
        }
        if upgrade && (oneway || more || collect) {
            throw ValidationError("--upgrade turns the connection into a byte stream after one reply; it excludes --oneway, --more and --collect.")
        }
    }

    func run() async throws {
        try await runReportingFailures {
            let (address, method, parameterText) = try splitArguments()
            let (interface, _) = try Self.splitMethod(method)
            let parameters = try await readParameters(parameterText)
            let session = try await Session.open(address: address, interface: interface, options: connection)
            if !noValidate {
                try await Self.check(parameters, of: method, interface: interface, session: session)
            }
            if oneway {
                _ = try await session.call(method, parameters, flags: .oneway)
            } else if upgrade {
                let layout = output.layout
                if let refusal = try await session.upgrade(method, parameters, { reply, raw in
                    let stderr = Terminal.standardError
                    stderr.write(JSONPrinter(layout: layout, for: stderr).render(reply.parameterValue) + "\n")
                    try await Self.relay(raw)
                }) {
                    throw RemoteErrorReport.report(refusal)
                }
            } else if more || collect {
                try await stream(method, parameters, session: session)
            } else {
                guard let reply = try await session.call(method, parameters) else {
                    throw ToolFailure(.protocolError, "no reply to \(method)")
                }
                if reply.error != nil { throw RemoteErrorReport.report(reply) }
                let stdout = Terminal.standardOutput
                stdout.write(JSONPrinter(layout: output.layout, for: stdout).render(reply.parameterValue) + "\n")
            }
            await session.close()
        }
    }

    /// stdin to the service until its end (then the sending side is shut), and the
    /// service's bytes to stdout until it closes.
    static func relay(_ raw: VarlinkRawConnection) async throws {
        let (input, feed) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(64))
        Threads.start {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                feed.yield(Array(buffer[0..<count]))
            }
            feed.finish()
        }
        let sender = Task {
            for await chunk in input { try await raw.write(chunk) }
            await raw.finish()
        }
        defer { sender.cancel() }
        let stdout = Terminal.standardOutput
        for try await chunk in raw.inbound { stdout.write(chunk) }
    }

    /// `ADDRESS/METHOD [JSON]`, or varlinkctl's `ADDRESS METHOD [JSON]`.
    private func splitArguments() throws -> (address: String?, method: String, parameters: String?) {
        if let second = parameters, Self.isMethodName(second), AddressArgument.looksLikeAddress(target) {
            return (target, second, varlinkctlParameters)
        }
        if let extra = varlinkctlParameters {
            throw ToolFailure(.usage, "unexpected argument '\(extra)'")
        }
        let split = QualifiedTarget(target)
        return (split.address, split.name, parameters)
    }

    static func isMethodName(_ text: String) -> Bool {
        guard let dot = text.lastIndex(of: "."), text.first?.isLetter == true else { return false }
        let member = text[text.index(after: dot)...]
        return member.first?.isUppercase == true && !text.contains(":") && !text.contains("/")
            && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }
    }

    static func splitMethod(_ method: String) throws -> (interface: String, member: String) {
        guard isMethodName(method), let dot = method.lastIndex(of: ".") else {
            throw ToolFailure(
                .usage,
                "'\(method)' is not a fully qualified method name; write INTERFACE.Method, e.g. org.varlink.service.GetInfo"
            )
        }
        return (String(method[..<dot]), String(method[method.index(after: dot)...]))
    }

    private func readParameters(_ text: String?) async throws -> JSONValue {
        guard let text else { return .object([:]) }
        var bytes = Array(text.utf8)
        if text == "-" {
            if Terminal.standardInputIsTerminal {
                throw ToolFailure(.usage, "'-' reads the parameters from stdin, which is a terminal; pipe JSON into it")
            }
            bytes = try await Terminal.readStandardInput()
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw ToolFailure(.invalidInput, "the parameters are not valid JSON: \(error)")
        }
        switch value {
        case .object: return value
        case .null: return .object([:])
        default:
            throw ToolFailure(.invalidInput, "the parameters must be a JSON object, not \(ParameterValidator.describe(value))")
        }
    }

    /// Fetches the interface and checks the parameters against the method's input.
    /// A description the parser cannot read is a warning, not a failure: the service
    /// may use syntax newer than ours.
    static func check(_ parameters: JSONValue, of method: String, interface: String, session: Session) async throws {
        let description = try await session.interfaceDescription(interface)
        let parsed: InterfaceDefinition
        do {
            parsed = try InterfaceDefinition.parse(description, fileName: interface)
        } catch {
            Terminal.standardError.write("varlink: warning: cannot check the parameters, the interface does not parse:\n\(error)\n")
            return
        }
        let member = String(method[method.index(after: method.lastIndex(of: ".")!)...])
        guard let definition = parsed.methods.first(where: { $0.name == member }) else {
            let names = parsed.methods.map(\.name).joined(separator: ", ")
            throw ToolFailure(.invalidInput, "\(interface) has no method \(member); its methods are: \(names)")
        }
        let problems = ParameterValidator.check(parameters, method: definition, in: parsed)
        guard !problems.isEmpty else { return }
        var message = "invalid parameters for \(method):\n"
        message += problems.map { "  \($0)\n" }.joined()
        message += definition.signature
        throw ToolFailure(.invalidInput, message)
    }

    private func stream(_ method: String, _ parameters: JSONValue, session: Session) async throws {
        let stdout = Terminal.standardOutput
        let printer = JSONPrinter(layout: output.layout, for: stdout)
        var collected: [JSONValue] = []
        do {
            for try await reply in session.stream(method, parameters) {
                Watchdog.restart()
                if reply.error != nil {
                    if collect && !collected.isEmpty { stdout.write(printer.render(.array(collected)) + "\n") }
                    throw RemoteErrorReport.report(reply)
                }
                if collect {
                    collected.append(reply.parameterValue)
                } else {
                    stdout.write(printer.render(reply.parameterValue) + "\n")
                }
            }
        } catch let failure as ToolFailure {
            throw failure
        } catch {
            throw await session.explain(error)
        }
        if collect { stdout.write(printer.render(.array(collected)) + "\n") }
    }
}
