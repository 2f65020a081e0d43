import PodlinkTestSupport
import Testing
import Varlink
import VarlinkIDL

/// info, list-interfaces, list-methods, introspect and help, against our certification
/// server and python's and Go's.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct IntrospectionTests {
    static let certificationMethods = [
        "Start", "Test01", "Test02", "Test03", "Test04", "Test05", "Test06",
        "Test07", "Test08", "Test09", "Test10", "Test11", "End",
    ].map { "org.varlink.certification.\($0)" }

    @Test(arguments: Peer.allCases)
    func infoPrintsAlignedFields(peer: Peer) async throws {
        try await withServer(peer) { address in
            let output = try await Tool.varlink(["info", address])
            #expect(output.status == 0, "\(output)")
            let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.count == 7, "\(output)")
            #expect(lines[0].hasPrefix("    Vendor: "))
            #expect(lines[1].hasPrefix("   Product: "))
            #expect(lines[2].hasPrefix("   Version: "))
            #expect(lines[3].hasPrefix("       URL: "))
            #expect(lines[4] == "Interfaces: org.varlink.service")
            #expect(lines[5] == "            org.varlink.certification")
            #expect(output.stderr.isEmpty)
        }
    }

    @Test func infoAsJSON() async throws {
        try await withServer(.podlink) { address in
            let output = try await Tool.varlink(["info", "-j", address])
            #expect(output.status == 0, "\(output)")
            let reply = try JSONValue(parsing: output.stdout)
            #expect(reply["product"] == "Certification")
            #expect(reply["interfaces"] == ["org.varlink.service", "org.varlink.certification"])
            // Not a terminal: one line.
            #expect(output.stdout.filter { $0 == "\n" }.count == 1)
        }
    }

    @Test(arguments: Peer.allCases)
    func listInterfaces(peer: Peer) async throws {
        try await withServer(peer) { address in
            let output = try await Tool.varlink(["list-interfaces", address])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout == "org.varlink.service\norg.varlink.certification\n")
        }
    }

    @Test(arguments: Peer.allCases)
    func listMethods(peer: Peer) async throws {
        try await withServer(peer) { address in
            let one = try await Tool.varlink(["list-methods", address, "org.varlink.certification"])
            #expect(one.status == 0, "\(one)")
            #expect(one.stdout.split(separator: "\n").map(String.init) == Self.certificationMethods)

            let all = try await Tool.varlink(["list-methods", address])
            #expect(all.status == 0, "\(all)")
            let expected = ["org.varlink.service.GetInfo", "org.varlink.service.GetInterfaceDescription"]
                + Self.certificationMethods
            #expect(all.stdout.split(separator: "\n").map(String.init) == expected)
        }
    }

    @Test(arguments: Peer.allCases)
    func introspectPrintsTheDescription(peer: Peer) async throws {
        try await withServer(peer) { address in
            let output = try await Tool.varlink(["introspect", address, "org.varlink.certification"])
            #expect(output.status == 0, "\(output)")
            let interface = try InterfaceDefinition.parse(output.stdout)
            #expect(interface.name == "org.varlink.certification")
            #expect(interface.methods.count == 13)

            // help ADDRESS/INTERFACE prints the same text.
            let help = try await Tool.varlink(["help", "\(address)/org.varlink.certification"])
            #expect(help.status == 0, "\(help)")
            #expect(help.stdout == output.stdout)
        }
    }

    @Test func introspectsEveryInterfaceByDefault() async throws {
        try await withServer(.podlink) { address in
            let output = try await Tool.varlink(["introspect", address])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.contains("interface org.varlink.service\n"))
            #expect(output.stdout.contains("interface org.varlink.certification\n"))
        }
    }

    @Test func introspectingAMissingInterfaceIsARemoteError() async throws {
        try await withServer(.podlink) { address in
            let output = try await Tool.varlink(["introspect", address, "org.example.nope"])
            #expect(output.status == 1, "\(output)")
            #expect(output.stderr.hasPrefix("error: org.varlink.service.InterfaceNotFound\n"), "\(output)")
        }
    }

    @Test(arguments: Peer.allCases)
    func helpShowsSignatureTypesAndSkeleton(peer: Peer) async throws {
        try await withServer(peer) { address in
            let output = try await Tool.varlink(["help", "\(address)/org.varlink.certification.Test02"])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.contains("method Test02(client_id: string, bool: bool) -> (int: int)\n"))
            #expect(output.stdout.contains("{\n  \"client_id\": \"\",\n  \"bool\": false\n}\n"), "\(output)")
            #expect(
                output.stdout.contains(
                    "varlink call \(address)/org.varlink.certification.Test02 '{\"client_id\":\"\",\"bool\":false}'"
                )
            )

            // A method using named types shows their definitions too.
            let nested = try await Tool.varlink(["help", "\(address)/org.varlink.certification.Test10"])
            #expect(nested.status == 0, "\(nested)")
            #expect(nested.stdout.contains("type MyType ("))
            #expect(nested.stdout.contains("type Interface ("))
        }
    }

    @Test func helpSkeletonIsValidInput() async throws {
        try await withServer(.podlink) { address in
            let help = try await Tool.varlink(["help", "\(address)/org.varlink.certification.Test10"])
            #expect(help.status == 0, "\(help)")
            // The skeleton sits between "Parameters:" and "Call:".
            let afterHeading = try #require(help.stdout.split(separator: "Parameters:\n", maxSplits: 1).last)
            let skeleton = try #require(afterHeading.split(separator: "\nCall:", maxSplits: 1).first)
            let value = try JSONValue(parsing: String(skeleton))
            #expect(value["mytype"]?["enum"] == "one")
            #expect(value["mytype"]?["nullable"] == .null)
            #expect(value["mytype"]?["interface"]?["anon"] == ["bar": false, "foo": false])

            // The tool's own validation accepts it: the call reaches the server, which
            // answers ClientIdError (no Start before), not a validation failure.
            let call = try await Tool.varlink([
                "call", "--more", "\(address)/org.varlink.certification.Test10", String(skeleton),
            ])
            #expect(call.status == 1, "\(call)")
            #expect(call.stderr == "error: org.varlink.certification.ClientIdError\n", "\(call)")
        }
    }

    @Test func helpForATypeOrErrorPrintsItsDefinition() async throws {
        try await withServer(.podlink) { address in
            let type = try await Tool.varlink(["help", "\(address)/org.varlink.certification.Interface"])
            #expect(type.status == 0, "\(type)")
            #expect(type.stdout.hasPrefix("type Interface ("), "\(type)")

            let missing = try await Tool.varlink(["help", "\(address)/org.varlink.certification.Nope"])
            #expect(missing.status == 65, "\(missing)")
            #expect(missing.stderr.contains("has no member Nope"))
        }
    }
}
