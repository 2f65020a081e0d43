import PodlinkTestSupport
import Testing
import Varlink
import VarlinkNIO

/// Without an ADDRESS, `call` and `help` ask org.varlink.resolver where the interface is.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ResolverTests {
    /// A resolver that knows one interface.
    private static func resolver(serving interface: String, at address: String) -> VarlinkService {
        let resolve: VarlinkInterface.MethodHandler = { call, sink in
            guard case .string(let asked)? = call.parameterValue["interface"] else {
                throw VarlinkError.invalidParameter("interface")
            }
            guard asked == interface else {
                throw VarlinkError(name: "org.varlink.resolver.InterfaceNotFound", parameters: ["interface": .string(asked)])
            }
            try await sink.send(JSONValue.object(["address": .string(address)]), continues: false)
        }
        return VarlinkService(
            info: VarlinkServiceInfo(vendor: "tests", product: "resolver", version: "1", url: ""),
            interfaces: [
                VarlinkInterface(
                    name: "org.varlink.resolver",
                    description: """
                        interface org.varlink.resolver

                        method Resolve(interface: string) -> (address: string)

                        error InterfaceNotFound (interface: string)

                        """,
                    methods: ["Resolve": resolve]
                )
            ]
        )
    }

    @Test func callAndHelpFindTheServiceThroughTheResolver() async throws {
        try await withServer(.podlink) { address in
            let resolverPath = temporarySocketPath("resolver")
            let server = VarlinkServer(service: Self.resolver(serving: "org.varlink.certification", at: address))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run(on: .address(.unix(path: resolverPath, mode: nil))) }
                try await waitForSocket(resolverPath)
                defer { server.shutdown() }

                let call = try await Tool.varlink([
                    "-R", "unix:\(resolverPath)", "call", "org.varlink.certification.Start",
                ])
                #expect(call.status == 0, "\(call)")
                #expect(call.stdout.hasPrefix("{\"client_id\":"), "\(call)")

                let help = try await Tool.varlink(["help", "--resolver", "unix:\(resolverPath)", "org.varlink.certification.Test02"])
                #expect(help.status == 0, "\(help)")
                #expect(help.stdout.contains("Test02"), "\(help)")

                let unknown = try await Tool.varlink(["-R", "unix:\(resolverPath)", "call", "org.example.nothing.Ping"])
                #expect(unknown.status == 69, "\(unknown)")
                #expect(unknown.stderr.contains("cannot find org.example.nothing"), "\(unknown)")
            }
        }
    }

    @Test func noResolverRunningIsAConnectionError() async throws {
        let output = try await Tool.varlink(["-R", "unix:\(temporarySocketPath("none"))", "call", "org.example.x.Ping"])
        #expect(output.status == 69, "\(output)")
        #expect(output.stderr.contains("resolver"), "\(output)")
    }
}
