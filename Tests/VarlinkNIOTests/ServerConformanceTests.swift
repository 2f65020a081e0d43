import Foundation
import PodlinkTestSupport
import Testing
import Varlink
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// The server against raw sockets, one test per hard case of the protocol notes (§11).
@Suite(.timeLimit(.minutes(1)))
struct ServerConformanceTests {
    let service = TestService.makeService().0

    // MARK: Framing and JSON

    @Test func messagesSplitAcrossReadsAndMergedInOne() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            // Byte by byte, through a multi-byte character.
            let call = Array(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"é😀"}}"#.utf8) + [0]
            for byte in call {
                client.send([byte])
                usleep(200)
            }
            #expect(try await client.receiveReply() == ["parameters": ["pong": "é😀"]])
            // Three calls in one write.
            client.send(
                Array(
                    (1...3).map { #"{"method":"org.podlink.test.Ping","parameters":{"ping":"\#($0)"}}"# }
                        .joined(separator: "\0").utf8
                ) + [0]
            )
            for number in 1...3 {
                #expect(try await client.receiveReply() == ["parameters": ["pong": .string("\(number)")]])
            }
        }
    }

    @Test func whitespaceAroundTheObjectAndNULInsideStrings() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call("\n  {\"parameters\": {\"ping\": \"a\\u0000b\"}, \"method\": \"org.podlink.test.Ping\"}  \n")
            #expect(try await client.receiveReply() == ["parameters": ["pong": "a\u{0}b"]])
        }
    }

    static let connectionClosers: [(String, [UInt8])] = [
        ("invalid JSON", Array(#"{"method":"#.utf8)),
        ("a top-level array", Array(#"["org.podlink.test.Ping"]"#.utf8)),
        ("a top-level string", Array(#""org.podlink.test.Ping""#.utf8)),
        ("invalid UTF-8", Array(#"{"method":"org.podlink.test.Ping","parameters":{"ping":""#.utf8) + [0xFF, 0xFE] + Array(#""}}"#.utf8)),
        ("two flags", Array(#"{"method":"org.podlink.test.Ping","more":true,"oneway":true}"#.utf8)),
        ("a non-boolean flag", Array(#"{"method":"org.podlink.test.Ping","more":"yes"}"#.utf8)),
        ("an unknown unprefixed key", Array(#"{"method":"org.podlink.test.Ping","foo":1}"#.utf8)),
        ("a missing method", Array(#"{"parameters":{}}"#.utf8)),
        ("a non-string method", Array(#"{"method":1}"#.utf8)),
        ("a dotless method", Array(#"{"method":"Ping"}"#.utf8)),
        ("duplicate keys", Array(#"{"method":"org.podlink.test.Ping","method":"org.podlink.test.Ping"}"#.utf8)),
        ("parameters that are not an object", Array(#"{"method":"org.podlink.test.Ping","parameters":[1]}"#.utf8)),
    ]

    @Test(arguments: connectionClosers)
    func protocolViolationsCloseTheConnectionWithoutReply(_ name: String, _ message: [UInt8]) async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.send(message + [0])
            #expect(await client.receive() == .closed, "after \(name)")
        }
    }

    @Test func vendorKeysAreIgnoredAndFalseFlagsAccepted() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(
                #"{"method":"org.podlink.test.Ping","parameters":{"ping":"v"},"org.example":{"x":1},"more":false,"oneway":false,"upgrade":false}"#
            )
            #expect(try await client.receiveReply() == ["parameters": ["pong": "v"]])
        }
    }

    @Test func oversizedMessageClosesTheConnection() async throws {
        try await withServer(service, configure: { $0.maximumMessageSize = 1024 }) { address, _ in
            let client = try RawClient(path: path(address))
            client.send(Array(#"{"method":"org.podlink.test.Ping","parameters":{"ping":""#.utf8))
            client.send([UInt8](repeating: UInt8(ascii: "x"), count: 4096))
            #expect(await client.receive() == .closed)
        }
    }

    // MARK: Dispatch and errors

    @Test func parametersAbsentNullAndEmptyAreAlike() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            for parameters in ["", #","parameters":null"#, #","parameters":{}"#] {
                client.call(#"{"method":"org.podlink.test.Stats"\#(parameters)}"#)
                let reply = try await client.receiveReply()
                #expect(reply["parameters"]?["running"] == 0, "with parameters \(parameters)")
            }
        }
    }

    @Test func unknownInterfaceMethodAndUnimplementedMethod() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.nope.Foo"}"#)
            #expect(
                try await client.receiveReply()
                    == ["error": "org.varlink.service.InterfaceNotFound", "parameters": ["interface": "org.nope"]]
            )
            client.call(#"{"method":"org.podlink.test.Nope"}"#)
            #expect(
                try await client.receiveReply()
                    == ["error": "org.varlink.service.MethodNotFound", "parameters": ["method": "Nope"]]
            )
            client.call(#"{"method":"org.podlink.test.Declared"}"#)
            #expect(
                try await client.receiveReply()
                    == [
                        "error": "org.varlink.service.MethodNotImplemented",
                        "parameters": ["method": "org.podlink.test.Declared"],
                    ]
            )
            client.call(#"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"x.y"}}"#)
            #expect(try await client.receiveReply()["error"] == "org.varlink.service.InterfaceNotFound")
        }
    }

    @Test func badParametersAnswerInvalidParameterWithThePath() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            for (parameters, path) in [
                (#"{"ping":1}"#, "ping"),
                (#"{}"#, "ping"),
                (#"{"ping":"a","extra":true}"#, "extra"),
            ] {
                client.call(#"{"method":"org.podlink.test.Ping","parameters":\#(parameters)}"#)
                #expect(
                    try await client.receiveReply()
                        == ["error": "org.varlink.service.InvalidParameter", "parameters": ["parameter": .string(path)]]
                )
            }
        }
    }

    @Test func interfaceErrorsKeepTheirParameters() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Fail","parameters":{"reason":"because"}}"#)
            #expect(try await client.receiveReply() == ["error": "org.podlink.test.Failed", "parameters": ["reason": "because"]])
        }
    }

    @Test func getInfoListsTheServiceInterfaceFirst() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.varlink.service.GetInfo"}"#)
            let reply = try await client.receiveReply()
            #expect(reply["parameters"]?["interfaces"] == ["org.varlink.service", "org.podlink.test"])
            #expect(reply["parameters"]?["vendor"] == "Podlink")
        }
    }

    // MARK: oneway, more, pipelining

    @Test func failingOnewayCallsSendNothing() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Nope","oneway":true}"#)
            client.call(#"{"method":"org.nope.Nope","oneway":true}"#)
            client.call(#"{"method":"org.podlink.test.Fail","parameters":{"reason":"x"},"oneway":true}"#)
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"bad":1},"oneway":true}"#)
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"next"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "next"]])
        }
    }

    @Test func pipelinedCallsAreAnsweredInOrder() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            let calls = (0..<200).map { #"{"method":"org.podlink.test.Ping","parameters":{"ping":"\#($0)"}}"# }
            client.send(Array(calls.joined(separator: "\0").utf8) + [0])
            for number in 0..<200 {
                #expect(try await client.receiveReply() == ["parameters": ["pong": .string("\(number)")]])
            }
        }
    }

    @Test func callsDuringAStreamWaitForItsEnd() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Count","parameters":{"count":3},"more":true}"#)
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"after"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["number": 3], "continues": true])
            #expect(try await client.receiveReply() == ["parameters": ["number": 2], "continues": true])
            #expect(try await client.receiveReply() == ["parameters": ["number": 1], "continues": true])
            #expect(try await client.receiveReply() == ["parameters": ["number": 0]])
            #expect(try await client.receiveReply() == ["parameters": ["pong": "after"]])
        }
    }

    @Test func moreOnAPlainMethodGivesOneReplyAndStreamingWithoutMoreGivesExpectedMore() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"m"},"more":true}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "m"]])
            client.call(#"{"method":"org.podlink.test.Count","parameters":{"count":2}}"#)
            #expect(try await client.receiveReply() == ["error": "org.varlink.service.ExpectedMore", "parameters": [:]])
            // A stream with nothing to report still ends with exactly one reply.
            client.call(#"{"method":"org.podlink.test.Count","parameters":{"count":0},"more":true}"#)
            #expect(try await client.receiveReply() == ["parameters": ["number": 0]])
        }
    }

    @Test func hangingUpCancelsTheRunningCall() async throws {
        let (service, implementation) = TestService.makeService()
        try await withServer(service) { address, _ in
            do {
                let client = try RawClient(path: path(address))
                client.call(#"{"method":"org.podlink.test.Hang"}"#)
                try await waitUntil { implementation.counters.running.load(ordering: .relaxed) == 1 }
            }
            // The client is gone (its socket closed at the end of the scope above).
            try await waitUntil { implementation.counters.cancelled.load(ordering: .relaxed) == 1 }
            // The handler counts the cancellation before it unwinds; wait for it to leave.
            try await waitUntil { implementation.counters.running.load(ordering: .relaxed) == 0 }
        }
    }

    @Test func aClientThatShutsDownItsSendingSideStillGetsItsReplies() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"1"}}"#)
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"2"}}"#)
            shutdown(client.descriptor, Int32(SHUT_WR))
            #expect(try await client.receiveReply() == ["parameters": ["pong": "1"]])
            #expect(try await client.receiveReply() == ["parameters": ["pong": "2"]])
            #expect(await client.receive() == .closed)
        }
    }

    @Test func aSilentClientDoesNotHoldUpOthers() async throws {
        try await withServer(service) { address, _ in
            let silent = try RawClient(path: path(address))
            silent.send(Array(#"{"method":"org.podlink.test.Ping","#.utf8))
            let hanging = try RawClient(path: path(address))
            hanging.call(#"{"method":"org.podlink.test.Hang"}"#)
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"free"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "free"]])
        }
    }

    // MARK: Bad-input corpus

    static let corpus: [String] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Corpus/messages").standardized.path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().map { "\(directory)/\($0)" }
    }()

    @Test func theCorpusIsThere() {
        #expect(Self.corpus.count >= 15)
    }

    /// Every message of the corpus ends in an error reply or a closed connection, and the
    /// server goes on serving others.
    @Test(arguments: corpus)
    func corpusMessagesGetAnErrorOrAClosedConnection(_ file: String) async throws {
        let message = try #require(FileManager.default.contents(atPath: file))
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address), receiveTimeout: 5)
            client.send(Array(message) + [0])
            switch await client.receive() {
            case .closed:
                break
            case .message(let text):
                let reply = try JSONValue(parsing: text)
                guard case .object(let fields) = reply, case .string(let name)? = fields["error"] else {
                    Issue.record("\(file): a success reply to a bad message: \(text)")
                    return
                }
                #expect(name.hasPrefix("org.varlink.service."), "\(file): \(name)")
            case .timeout:
                Issue.record("\(file): neither a reply nor a close within 5 s")
            }
            let other = try RawClient(path: path(address))
            other.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"alive"}}"#)
            #expect(try await other.receiveReply() == ["parameters": ["pong": "alive"]])
        }
    }

    // MARK: upgrade (cases 33-35)

    @Test func bytesAfterTheUpgradeCallGoToTheUpgradedProtocol() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            // The call, and raw bytes (NULs included) in the same write: none of them may
            // be parsed as varlink or dropped.
            let raw: [UInt8] = Array("not varlink\0{\"method\":\"x\"}".utf8) + [0, 0xFF, 1, 2]
            client.send(Array(#"{"method":"org.podlink.test.Echo","parameters":{"greeting":"hi"},"upgrade":true}"#.utf8) + [0] + raw)
            #expect(try await client.receiveReply() == ["parameters": ["greeting": "hi"]])
            client.send(Array("and more".utf8))
            client.shutdownWrite()
            #expect(await client.receiveUntilClosed() == raw + Array("and more".utf8))
        }
    }

    @Test func aRefusedUpgradeLeavesTheConnectionVarlink() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Fail","parameters":{"reason":"no"},"upgrade":true}"#)
            #expect(try await client.receiveReply() == ["error": "org.podlink.test.Failed", "parameters": ["reason": "no"]])
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"still varlink"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "still varlink"]])
        }
    }

    @Test func upgradeOnAMethodWithoutItAndAMethodThatNeedsIt() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            // A method that does not upgrade answers normally; the connection stays varlink.
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"a"},"upgrade":true}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "a"]])
            client.call(#"{"method":"org.podlink.test.Echo","parameters":{"greeting":"b"}}"#)
            #expect(try await client.receiveReply() == ["error": "org.varlink.service.ExpectedUpgrade", "parameters": [:]])
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"c"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "c"]])
        }
    }

    // MARK: bounded upgrade (podman's SendFile)

    @Test func aBoundedUpgradeTakesItsBytesAndIsVarlinkAgain() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            // The call, its bytes (NULs and what looks like a call among them) and the next
            // call, in one write.
            let bytes: [UInt8] = Array(#"{"method":"org.podlink.test.Ping"}"#.utf8) + [0, 200, 7]
            client.send(
                Array(#"{"method":"org.podlink.test.Absorb","parameters":{"length":\#(bytes.count)},"upgrade":true}"#.utf8) + [0] + bytes
                    + Array(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"after"}}"#.utf8) + [0])
            #expect(try await client.receiveReply() == ["parameters": ["length": .int(bytes.count)]])
            #expect(await client.receive(through: UInt8(ascii: ":")) == Array("\(bytes.reduce(0) { $0 + Int($1) }):".utf8))
            #expect(try await client.receiveReply() == ["parameters": ["pong": "after"]], "no reply of Absorb's own, then varlink")
        }
    }

    @Test func aBoundedUpgradeHoldsBackAClientFasterThanTheMethod() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            let length = 16 << 20
            client.call(#"{"method":"org.podlink.test.Absorb","parameters":{"length":\#(length)},"upgrade":true}"#)
            _ = try await client.receiveReply()
            let chunk = [UInt8](repeating: 3, count: 1 << 20)
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread {
                    for _ in 0..<16 { client.send(chunk) }
                    done.resume()
                }.start()
            }
            #expect(await client.receive(through: UInt8(ascii: ":")) == Array("\(3 * length):".utf8))
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"after"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "after"]])
        }
    }

    @Test func aClientThatHangsUpInABoundedUpgradeEndsTheCall() async throws {
        let (service, implementation) = TestService.makeService()
        try await withServer(service) { address, _ in
            let before = implementation.counters.cancelled.load(ordering: .relaxed)
            do {
                let client = try RawClient(path: path(address))
                client.call(#"{"method":"org.podlink.test.Absorb","parameters":{"length":1000},"upgrade":true}"#)
                _ = try await client.receiveReply()
                client.send([UInt8](repeating: 1, count: 10))
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while implementation.counters.cancelled.load(ordering: .relaxed) == before, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(implementation.counters.cancelled.load(ordering: .relaxed) == before + 1, "the method saw the hang-up")
            let other = try RawClient(path: path(address))
            other.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"alive"}}"#)
            #expect(try await other.receiveReply() == ["parameters": ["pong": "alive"]])
        }
    }

    @Test func aBoundedUpgradeThatFailsHangsUp() async throws {
        try await withServer(service) { address, _ in
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Absorb","parameters":{"length":-1},"upgrade":true}"#)
            _ = try await client.receiveReply()
            #expect(await client.receive() == .closed, "its client waits for raw bytes: an error reply would be misread")
        }
    }

    // MARK: Transport

    @Test func aStaleSocketFileIsReplaced() async throws {
        let socketPath = temporarySocketPath("stale")
        // A socket file nobody listens on, as a crashed server leaves behind.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        _ = withUnixSocketAddress(socketPath) { Glibc.bind(stale, $0, $1) }
        close(stale)
        #expect(access(socketPath, F_OK) == 0)
        try await withServer(service, address: .unix(path: socketPath, mode: 0o600)) { address, _ in
            var info = stat()
            stat(socketPath, &info)
            #expect(info.st_mode & 0o777 == 0o600)
            let client = try RawClient(path: socketPath)
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"fresh"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "fresh"]])
        }
        // The server removes the socket file it made when it stops.
        #expect(access(socketPath, F_OK) != 0)
    }

    @Test func abstractAndTCPAddresses() async throws {
        let name = "podlink-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try await withServer(service, address: .abstract(name: name)) { address, _ in
            let connection = try await VarlinkConnection.connect(to: address)
            let client = TestAPI.Client(transport: connection)
            #expect(try await client.ping(ping: "abstract").pong == "abstract")
            await connection.close()
        }
        try await withServer(service, address: .tcp(host: "127.0.0.1", port: 0)) { _, server in
            // Port 0 picked a free port; ask the server which.
            let port = try #require(server.tcpPort)
            let connection = try await VarlinkConnection.connect(to: .tcp(host: "127.0.0.1", port: port))
            #expect(try await TestAPI.Client(transport: connection).ping(ping: "tcp").pong == "tcp")
            await connection.close()
        }
    }

    @Test func idleTimeoutStopsTheServer() async throws {
        var configuration = VarlinkServer.Configuration()
        configuration.idleTimeout = .milliseconds(100)
        let server = VarlinkServer(service: service, configuration: configuration)
        let started = ContinuousClock.now
        try await server.run(on: .address(.unix(path: temporarySocketPath("idle"), mode: nil)))
        // Generous: the suite shares two cores with CPU-heavy tests. A server that never
        // went idle would not return at all and hit the time limit instead.
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}

/// Polls `condition` until it holds, failing after `timeout`.
func waitUntil(
    timeout: Duration = .seconds(5),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
