import Testing
import Varlink

@Suite("VarlinkService through the loopback")
struct ServiceDispatchTests {
    let recorder = CallRecorder()
    var service: VarlinkService {
        VarlinkService(info: testServiceInfo, interfaces: [TestInterface.served(recorder: recorder), otherInterface])
    }
    var transport: VarlinkLoopbackTransport { VarlinkLoopbackTransport(service: service) }
    var client: VarlinkClient { VarlinkClient(transport: transport) }

    /// Sends a call without flags and returns its only reply.
    func call(_ method: String, _ parameters: JSONValue = [:]) async throws -> VarlinkReply {
        try #require(try await transport.call(method: method, parameters: parameters, flags: []))
    }

    /// The error an error reply carries.
    func error(_ method: String, _ parameters: JSONValue = [:]) async throws -> VarlinkError {
        let reply = try await call(method, parameters)
        _ = try #require(reply.error)
        #expect(!reply.continues)
        return VarlinkClient.genericError(from: reply)
    }

    // MARK: org.varlink.service

    @Test("GetInfo reports the identity and lists org.varlink.service first")
    func getInfo() async throws {
        let info = try await client.info()
        #expect(info.info == testServiceInfo)
        #expect(info.interfaces == ["org.varlink.service", "org.example.test", "org.example.other"])
    }

    @Test("an interface that claims to be org.varlink.service is not listed twice")
    func serviceInterfaceNotDuplicated() async throws {
        let impostor = VarlinkInterface(name: "org.varlink.service", description: "interface org.varlink.service\n", methods: [:])
        let service = VarlinkService(info: testServiceInfo, interfaces: [otherInterface, impostor])
        #expect(service.interfaceNames == ["org.varlink.service", "org.example.other"])
        let description = try await VarlinkClient(transport: VarlinkLoopbackTransport(service: service))
            .interfaceDescription("org.varlink.service")
        #expect(description == VarlinkService.serviceDescription)
    }

    @Test("GetInterfaceDescription returns the served text")
    func interfaceDescriptions() async throws {
        #expect(try await client.interfaceDescription("org.example.test") == TestInterface.interfaceDescription)
        #expect(try await client.interfaceDescription("org.varlink.service") == VarlinkService.serviceDescription)
        #expect(VarlinkService.serviceDescription.hasPrefix("# The Varlink Service Interface"))
        #expect(VarlinkService.serviceDescription.hasSuffix(")\n"))
    }

    @Test("GetInterfaceDescription of an unknown interface is InterfaceNotFound")
    func unknownInterfaceDescription() async throws {
        await #expect(throws: VarlinkError.interfaceNotFound("org.nope")) {
            _ = try await client.interfaceDescription("org.nope")
        }
    }

    @Test(
        "org.varlink.service checks its parameters strictly",
        arguments: [
            ("org.varlink.service.GetInfo", ["extra": 1], "extra"),
            ("org.varlink.service.GetInterfaceDescription", [:], "interface"),
            ("org.varlink.service.GetInterfaceDescription", ["interface": 1], "interface"),
            ("org.varlink.service.GetInterfaceDescription", ["interface": "org.example.test", "x": nil], "x"),
        ] as [(String, JSONValue, String)]
    )
    func serviceInvalidParameter(method: String, parameters: JSONValue, parameter: String) async throws {
        #expect(try await error(method, parameters) == .invalidParameter(parameter))
    }

    // MARK: Routing

    @Test(
        "unknown interfaces and methods",
        arguments: [
            ("org.nope.Foo", VarlinkError.interfaceNotFound("org.nope")),
            ("org.example.Echo", .interfaceNotFound("org.example")),
            ("org.example.test.Nope", .methodNotFound("Nope")),
            ("org.example.test.echo", .methodNotFound("echo")),
            ("org.example.other.Nothing", .methodNotFound("Nothing")),
            ("org.varlink.service.Nope", .methodNotFound("Nope")),
        ]
    )
    func routingErrors(method: String, expected: VarlinkError) async throws {
        #expect(try await error(method) == expected)
    }

    @Test("a method's reply comes back")
    func echo() async throws {
        let reply = try await call("org.example.test.Echo", ["text": "hi\u{0}"])
        #expect(reply.error == nil)
        #expect(!reply.continues)
        #expect(try reply.decode(TextMessage.self) == TextMessage(text: "hi\u{0}"))
        #expect(try await client.call(TestInterface.Echo.self, TextMessage(text: "typed")) == TextMessage(text: "typed"))
    }

    @Test(
        "bad parameters are InvalidParameter with the field's path",
        arguments: [
            (["text": 1], "text"), ([:], "text"), (["text": "a", "more": true], "more"),
            (["text": nil], "text"),
        ] as [(JSONValue, String)]
    )
    func invalidParameters(parameters: JSONValue, parameter: String) async throws {
        #expect(try await error("org.example.test.Echo", parameters) == .invalidParameter(parameter))
    }

    // MARK: Errors

    @Test("a thrown VarlinkError is sent as is")
    func varlinkError() async throws {
        let error = try await error("org.example.test.Fail")
        #expect(error == VarlinkError(name: "org.example.test.Failed", parameters: ["reason": "asked to"]))
    }

    @Test("a thrown typed error is sent under its name and comes back typed")
    func typedError() async throws {
        let error = try await error("org.example.test.FailTyped")
        #expect(error == VarlinkError(name: "org.example.test.Failed", parameters: ["reason": "typed"]))
        await #expect(throws: TestFailed(reason: "typed")) {
            _ = try await client.call(TestInterface.FailTyped.self, VarlinkEmpty())
        }
        // An error the interface does not declare comes back generic.
        await #expect(throws: VarlinkError.methodNotFound("Nope")) {
            _ = try await client.call(NopeMethod.self, VarlinkEmpty())
        }
    }

    @Test("a plain Swift error becomes <interface>.UnexpectedError")
    func plainError() async throws {
        let error = try await error("org.example.test.Crash")
        #expect(error.name == "org.example.test.UnexpectedError")
        #expect(error.parameters == ["description": "the disk is on fire"])
    }

    @Test("the unexpected-error mapping can be replaced")
    func customUnexpectedError() async throws {
        let service = VarlinkService(
            info: testServiceInfo,
            interfaces: [TestInterface.served(recorder: recorder)],
            unexpectedError: { _, call in VarlinkError(name: "org.example.test.Internal", parameters: ["method": .string(call.method)]) }
        )
        let reply = try #require(
            try await VarlinkLoopbackTransport(service: service).call(method: "org.example.test.Crash", parameters: VarlinkEmpty(), flags: [])
        )
        #expect(VarlinkClient.genericError(from: reply) == VarlinkError(name: "org.example.test.Internal", parameters: ["method": "org.example.test.Crash"]))
    }

    // MARK: oneway

    @Test(
        "oneway calls never get a reply, even when they fail",
        arguments: [
            ("org.example.test.Touch", ["text": "x"], "Touch:x"),
            ("org.example.test.Fail", [:], "Fail"),
            ("org.example.test.FailTyped", [:], "FailTyped"),
            ("org.example.test.Crash", [:], "Crash"),
            ("org.example.test.Count", ["n": 2], "Count"),  // sendContinues without more: ExpectedMore
            ("org.example.test.Echo", ["text": 1], nil),  // InvalidParameter
            ("org.example.test.Nope", [:], nil),  // MethodNotFound
            ("org.nope.Nope", [:], nil),  // InterfaceNotFound
            ("org.varlink.service.GetInfo", [:], nil),
            ("org.varlink.service.GetInterfaceDescription", ["interface": "org.nope"], nil),
        ] as [(String, JSONValue, String?)]
    )
    func oneway(method: String, parameters: JSONValue, ran: String?) async throws {
        // The loopback throws if the service produces any reply to a oneway call.
        let reply = try await transport.call(method: method, parameters: parameters, flags: .oneway)
        #expect(reply == nil)
        #expect(recorder.recorded == (ran.map { [$0] } ?? []))
    }

    @Test("the client's oneway helper returns without a reply")
    func onewayClient() async throws {
        try await client.oneway(TestInterface.Touch.self, TextMessage(text: "y"))
        try await client.oneway(TestInterface.Crash.self, VarlinkEmpty())
        #expect(recorder.recorded == ["Touch:y", "Crash"])
    }

    // MARK: more

    func streamReplies(_ method: String, _ parameters: JSONValue) async throws -> [VarlinkReply] {
        var replies: [VarlinkReply] = []
        for try await reply in transport.stream(method: method, parameters: parameters) {
            replies.append(reply)
        }
        return replies
    }

    @Test("a stream yields N continues replies, then the final one", arguments: [0, 1, 3, 50])
    func streaming(count: Int) async throws {
        let replies = try await streamReplies("org.example.test.Count", ["n": .int(count)])
        #expect(replies.count == count + 1)
        #expect(replies.map(\.continues) == Array(repeating: true, count: count) + [false])
        #expect(replies.allSatisfy { $0.error == nil })
        #expect(try replies.map { try $0.decode(CountReply.self).i } == Array(0...count))

        var typed: [Int] = []
        for try await reply in client.stream(TestInterface.Count.self, CountParameters(n: count)) {
            typed.append(reply.i)
        }
        #expect(typed == Array(0...count))
    }

    @Test("an error during a stream ends it")
    func streamingError() async throws {
        let replies = try await streamReplies("org.example.test.Count", ["n": 5, "failAt": 2])
        #expect(replies.map(\.continues) == [true, true, false])
        #expect(replies.map(\.error) == [nil, nil, "org.example.test.Failed"])
        #expect(replies.last?.parameterValue == ["reason": "at 2"])
    }

    @Test("typed streams throw the interface's error after the replies before it")
    func typedStreamError() async throws {
        var seen: [Int] = []
        await #expect(throws: TestFailed(reason: "at 1")) {
            for try await reply in client.stream(TestInterface.Count.self, CountParameters(n: 5, failAt: 1)) {
                seen.append(reply.i)
            }
        }
        #expect(seen == [0])
    }

    @Test("sendContinues on a call without more is ExpectedMore")
    func expectedMore() async throws {
        #expect(try await error("org.example.test.Count", ["n": 2]) == .expectedMore)
        // Without continues there is nothing to refuse: n = 0 answers normally.
        let reply = try await call("org.example.test.Count", ["n": 0])
        #expect(try reply.decode(CountReply.self) == CountReply(i: 0))
    }

    @Test("more on a method that does not stream gives exactly one final reply")
    func moreOnPlainMethod() async throws {
        let replies = try await streamReplies("org.example.test.Echo", ["text": "x"])
        #expect(replies.count == 1)
        #expect(replies.first?.continues == false)
        #expect(try replies.first?.decode(TextMessage.self) == TextMessage(text: "x"))
    }

    @Test("errors on a more call are one final error reply", arguments: ["org.nope.X", "org.example.test.Fail", "org.example.test.Crash"])
    func moreErrors(method: String) async throws {
        let replies = try await streamReplies(method, [:])
        #expect(replies.count == 1)
        #expect(replies.first?.error != nil)
        #expect(replies.first?.continues == false)
    }
}

/// A method the test interface does not have, for the generic-error path of the client.
enum NopeMethod: VarlinkInterfaceMethod {
    typealias Interface = TestInterface
    typealias Parameters = VarlinkEmpty
    typealias Reply = VarlinkEmpty
    static var qualifiedName: String { "org.example.test.Nope" }
}
