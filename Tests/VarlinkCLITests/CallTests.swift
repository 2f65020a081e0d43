import PodlinkTestSupport
import Testing
import Varlink

/// `varlink call`: replies, remote errors, validation before sending, streams, oneway
/// and parameters from stdin.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CallTests {
    @Test(arguments: Peer.allCases)
    func callPrintsCompactJSONWhenNotATerminal(peer: Peer) async throws {
        try await withServer(peer) { address in
            let output = try await Tool.varlink(["call", "\(address)/org.varlink.certification.Start"])
            #expect(output.status == 0, "\(output)")
            #expect(output.stderr.isEmpty)
            #expect(output.stdout.hasPrefix("{\"client_id\":\""), "\(output)")
            #expect(output.stdout.hasSuffix("\"}\n"))
            #expect(output.stdout.filter { $0 == "\n" }.count == 1)
        }
    }

    @Test func prettyLayoutOnRequest() async throws {
        try await withServer(.podlink) { address in
            let output = try await Tool.varlink([
                "call", "--json=pretty", "\(address)/org.varlink.service.GetInterfaceDescription",
                #"{"interface":"org.varlink.service"}"#,
            ])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.hasPrefix("{\n  \"description\": \"# The Varlink Service Interface"), "\(output)")
            #expect(!output.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        }
    }

    @Test func varlinkctlArgumentOrder() async throws {
        try await withServer(.podlink) { address in
            let output = try await Tool.varlink([
                "call", address, "org.varlink.service.GetInterfaceDescription", #"{"interface":"org.varlink.service"}"#,
            ])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.hasPrefix("{\"description\":"))
        }
    }

    @Test(arguments: Peer.allCases)
    func remoteErrorGoesToStderrWithItsParameters(peer: Peer) async throws {
        try await withServer(peer) { address in
            // Unchecked, so that the call reaches the server and it answers the error.
            let output = try await Tool.varlink(["call", "--no-validate", "\(address)/org.varlink.certification.Nope"])
            #expect(output.status == 1, "\(output)")
            #expect(output.stdout.isEmpty)
            #expect(output.stderr == "error: org.varlink.service.MethodNotFound\n{\"method\":\"Nope\"}\n", "\(output)")
        }
    }

    @Test(arguments: Peer.allCases)
    func errorFromTheValidationLookupIsARemoteError(peer: Peer) async throws {
        try await withServer(peer) { address in
            // Fetching org.example.nope's description fails the way the call itself would.
            let output = try await Tool.varlink(["call", "\(address)/org.example.nope.Method"])
            #expect(output.status == 1, "\(output)")
            // Go answers an unknown interface with InvalidParameter.
            let expected =
                peer == .go
                ? "error: org.varlink.service.InvalidParameter\n{\"parameter\":\"interface\"}\n"
                : "error: org.varlink.service.InterfaceNotFound\n{\"interface\":\"org.example.nope\"}\n"
            #expect(output.stderr == expected, "\(output)")
        }
    }

    @Test(arguments: Peer.allCases)
    func validationReportsEveryProblemWithItsPath(peer: Peer) async throws {
        try await withServer(peer) { address in
            let parameters = """
                {"client_id": 5, "mytype": {"object": {}, "enum": "four", "struct": {"first": 1.5, "second": "x"},
                 "array": ["a", 2], "dictionary": {"k": 1}, "stringset": {"a": {}},
                 "interface": {"anon": {"foo": true}}, "extra": null}}
                """
            let output = try await Tool.varlink(["call", "\(address)/org.varlink.certification.Test10", parameters])
            #expect(output.status == 65, "\(output)")
            #expect(output.stdout.isEmpty)
            let expected = [
                "varlink: invalid parameters for org.varlink.certification.Test10:",
                "  client_id: expected string, got int 5",
                "  mytype.extra: unknown field; the fields are object, enum, struct, array, dictionary, stringset, nullable, nullable_array_struct, interface",
                #"  mytype.enum: expected one of "one", "two", "three", got string "four""#,
                "  mytype.struct.first: expected int, got float 1.5",
                "  mytype.array[1]: expected string, got int 2",
                "  mytype.dictionary.k: expected string, got int 1",
                "  mytype.interface.anon.bar: missing required field of type bool",
                "method Test10(client_id: string, mytype: MyType) -> (string: string)",
            ]
            #expect(output.stderr.split(separator: "\n").map(String.init) == expected, "\(output)")
        }
    }

    @Test func validationSuggestsAMisspelledField() async throws {
        try await withServer(.podlink) { address in
            let output = try await Tool.varlink([
                "call", "\(address)/org.varlink.certification.Test02", #"{"client_id": "x", "bol": true}"#,
            ])
            #expect(output.status == 65, "\(output)")
            #expect(output.stderr.contains("  bol: unknown field; did you mean 'bool'?\n"))
            #expect(output.stderr.contains("  bool: missing required field of type bool\n"))
            #expect(output.stderr.hasSuffix("method Test02(client_id: string, bool: bool) -> (int: int)\n"))
        }
    }

    /// StopServing would stop the server; a validation failure must keep it from being sent.
    @Test func invalidParametersAreNeverSent() async throws {
        try await withMoreServer { address, server in
            let output = try await Tool.varlink(["call", "\(address)/org.example.more.StopServing", #"{"reason": 5}"#])
            #expect(output.status == 65, "\(output)")
            #expect(output.stderr.contains("reason: expected string, got int 5"))
            let ping = try await Tool.varlink(["call", "\(address)/org.example.more.Ping", #"{"ping": "still here"}"#])
            #expect(ping.stdout == "{\"pong\":\"still here\"}\n", "\(ping)")
            #expect(server.process.isRunning)
        }
    }

    @Test func unknownMethodIsCaughtBeforeSending() async throws {
        try await withServer(.podlink) { address in
            let output = try await Tool.varlink(["call", "\(address)/org.varlink.certification.Nope"])
            #expect(output.status == 65, "\(output)")
            #expect(output.stderr.contains("org.varlink.certification has no method Nope"))
        }
    }

    @Test func invalidJSONParameters() async throws {
        try await withServer(.podlink) { address in
            let broken = try await Tool.varlink(["call", "\(address)/org.varlink.certification.Start", "{"])
            #expect(broken.status == 65, "\(broken)")
            #expect(broken.stderr.contains("not valid JSON"))
            let array = try await Tool.varlink(["call", "\(address)/org.varlink.certification.Start", "[]"])
            #expect(array.status == 65, "\(array)")
            #expect(array.stderr.contains("must be a JSON object"))
        }
    }

    @Test func methodMustBeFullyQualified() async throws {
        let output = try await Tool.varlink(["call", "unix:/nonexistent/Start"])
        #expect(output.status == 64, "\(output)")
        #expect(output.stderr.contains("not a fully qualified method name"))
    }

    @Test func parametersFromStdin() async throws {
        try await withMoreServer { address, _ in
            let output = try await Tool.varlink(["call", "\(address)/org.example.more.Ping", "-"], stdin: #"{"ping": "piped"}"#)
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout == "{\"pong\":\"piped\"}\n")
        }
        try await withServer(.go) { address in
            let output = try await Tool.varlink(
                ["call", "\(address)/org.varlink.service.GetInterfaceDescription", "-"],
                stdin: #"{"interface": "org.varlink.certification"}"#
            )
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.hasPrefix("{\"description\":"))
        }
    }

    @Test func moreStreamsEveryReply() async throws {
        try await withMoreServer { address, _ in
            let output = try await Tool.varlink(["call", "--more", "\(address)/org.example.more.TestMore", #"{"n": 1}"#])
            #expect(output.status == 0, "\(output)")
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(
                lines == [
                    #"{"state":{"start":true}}"#, #"{"state":{"progress":0}}"#, #"{"state":{"progress":100}}"#,
                    #"{"state":{"end":true}}"#,
                ],
                "\(output)"
            )
        }
    }

    @Test func collectPrintsOneArray() async throws {
        try await withMoreServer { address, _ in
            let output = try await Tool.varlink(["call", "--collect", "\(address)/org.example.more.TestMore", #"{"n": 1}"#])
            #expect(output.status == 0, "\(output)")
            let value = try JSONValue(parsing: output.stdout)
            guard case .array(let replies) = value else {
                Issue.record("not an array: \(output)")
                return
            }
            #expect(replies.count == 4)
            #expect(replies.last == ["state": ["end": true]])
        }
    }

    /// Oneway: nothing printed, exit 0 at once, and the call arrives (StopServing ends
    /// the server).
    @Test func onewayIsSentWithoutWaiting() async throws {
        try await withMoreServer { address, server in
            let output = try await Tool.varlink(["call", "--oneway", "\(address)/org.example.more.StopServing"])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.isEmpty && output.stderr.isEmpty)
            #expect(await server.waitForExit(timeout: .seconds(10)), "the oneway StopServing did not arrive")
        }
    }

    @Test func onewayExcludesMore() async throws {
        let output = try await Tool.varlink(["call", "--oneway", "--more", "unix:/x.sock/org.example.more.TestMore"])
        #expect(output.status == 64, "\(output)")
    }
}
