import ArgumentParser
import Varlink
import VarlinkIDL

struct Help: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "help",
        abstract: "Print an interface's description, or how to call one of its methods.",
        discussion: """
            help ADDRESS/INTERFACE prints the interface as the service describes it. \
            help ADDRESS/INTERFACE.METHOD prints the method's documentation and signature, the types it uses, \
            and a JSON skeleton of its parameters to start a call from. A type or error name prints its definition.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(
        help: ArgumentHelp("The interface or member, after the service's address and a '/'.", valueName: "[address/]interface[.member]"),
        completion: .custom(Completion.memberTarget)
    )
    var target: String?

    func run() async throws {
        // `varlink help` and `varlink help COMMAND` are the tool's own help, as usual.
        guard let target else { return Terminal.standardOutput.write(VarlinkTool.helpMessage() + "\n") }
        if let command = VarlinkTool.configuration.subcommands.first(where: { $0._commandName == target }) {
            return Terminal.standardOutput.write(VarlinkTool.helpMessage(for: command) + "\n")
        }
        try await runReportingFailures {
            let split = QualifiedTarget(target)
            let (interface, member) = split.interfaceAndMember
            let session = try await Session.open(address: split.address, interface: interface, options: connection)
            let description = try await session.interfaceDescription(interface)
            await session.close()
            let stdout = Terminal.standardOutput
            guard let member else {
                return stdout.write(description.hasSuffix("\n") ? description : description + "\n")
            }
            let parsed: InterfaceDefinition
            do {
                parsed = try InterfaceDefinition.parse(description, fileName: interface)
            } catch {
                throw ToolFailure(.protocolError, "the description of \(interface) does not parse:\n\(error)")
            }
            guard let found = parsed.members.first(where: { $0.name == member }) else {
                let names = parsed.members.map(\.name).joined(separator: ", ")
                throw ToolFailure(.invalidInput, "\(interface) has no member \(member); it has: \(names)")
            }
            stdout.write(Self.text(for: found, in: parsed, address: split.address, stream: stdout))
        }
    }

    static func text(for member: Member, in interface: InterfaceDefinition, address: String?, stream: OutputStream) -> String {
        guard case .method(let method) = member else {
            return canonicalText(of: [member], interfaceName: interface.name)
        }
        let types = referencedTypes(of: [.structure(method.input), .structure(method.output)], in: interface)
        var text = canonicalText(of: [.method(method)] + types.map(Member.type), interfaceName: interface.name)
        let skeleton = Skeleton.parameters(of: method, in: interface)
        text += "\n" + stream.styled("Parameters:", .bold) + "\n"
        text += JSONPrinter(layout: .pretty, for: stream).render(skeleton) + "\n"
        let compact = JSONPrinter(layout: .short, for: stream).render(skeleton)
        let target = (address.map { "\($0)/" } ?? "") + "\(interface.name).\(method.name)"
        text += "\n" + stream.styled("Call:", .bold) + "\n  varlink call \(target) '\(compact)'\n"
        return text
    }
}
