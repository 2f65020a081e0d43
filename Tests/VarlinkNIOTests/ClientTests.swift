import Foundation
import PodlinkTestSupport
import Testing
import Varlink
import VarlinkNIO

/// Our client against our server over a real socket.
@Suite(.timeLimit(.minutes(1)))
struct ClientTests {
    let service = TestService.makeService().0

    @Test func concurrentCallsArePipelinedAndEachGetsItsOwnReply() async throws {
        try await withServer(service) { address, _ in
            let connection = try await VarlinkConnection.connect(to: address)
            let client = TestAPI.Client(transport: connection)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for number in 0..<500 {
                    group.addTask {
                        let reply = try await client.ping(ping: "\(number)")
                        #expect(reply.pong == "\(number)")
                    }
                }
                try await group.waitForAll()
            }
            await connection.close()
        }
    }

    @Test func streamsYieldEveryReplyThenEnd() async throws {
        try await withServer(service) { address, _ in
            let connection = try await VarlinkConnection.connect(to: address)
            let client = TestAPI.Client(transport: connection)
            var numbers: [Int] = []
            for try await reply in client.stream(TestAPI.Methods.Count.self, .init(count: 5)) {
                numbers.append(reply.number)
            }
            #expect(numbers == [5, 4, 3, 2, 1, 0])
            // The connection is still in step after the stream.
            #expect(try await client.ping(ping: "after").pong == "after")
            await connection.close()
        }
    }

    @Test func upgradeTurnsTheConnectionIntoARawStream() async throws {
        try await withServer(service) { address, _ in
            let connection = try await VarlinkConnection.connect(to: address)
            let client = TestAPI.Client(transport: connection)
            let payload = Array("raw\0bytes".utf8) + Array(repeating: 0xAB, count: 100_000)
            let echoed = try await client.upgrade(TestAPI.Methods.Echo.self, .init(greeting: "hello")) { reply, raw in
                #expect(reply.greeting == "hello")
                try await raw.write(payload)
                await raw.finish()
                var received: [UInt8] = []
                for try await chunk in raw.inbound { received += chunk }
                return received
            }
            #expect(echoed == payload)
        }
    }

    @Test func aRefusedUpgradeThrowsAndTheConnectionStaysUsable() async throws {
        try await withServer(service) { address, _ in
            let connection = try await VarlinkConnection.connect(to: address)
            let client = TestAPI.Client(transport: connection)
            await #expect(throws: TestAPI.Failed(reason: "refused")) {
                try await client.upgrade(TestAPI.Methods.Fail.self, .init(reason: "refused")) { _, _ in }
            }
            #expect(try await client.ping(ping: "after").pong == "after")
            await connection.close()
        }
    }

    @Test func typedErrorsAndServiceErrors() async throws {
        try await withServer(service) { address, _ in
            let connection = try await VarlinkConnection.connect(to: address)
            let client = TestAPI.Client(transport: connection)
            await #expect(throws: TestAPI.Failed(reason: "r")) { try await client.fail(reason: "r") }
            await #expect(throws: VarlinkError.methodNotImplemented("org.podlink.test.Declared")) {
                try await client.declared()
            }
            await #expect(throws: VarlinkError.expectedMore) { _ = try await client.count(count: 1) }
            let info = try await VarlinkClient(transport: connection).info()
            #expect(info.interfaces == ["org.varlink.service", "org.podlink.test"])
            let description = try await VarlinkClient(transport: connection).interfaceDescription("org.podlink.test")
            #expect(description == TestAPI.interfaceDescription)
            await connection.close()
        }
    }

    @Test func aCallTimesOutAndTheConnectionStaysUsable() async throws {
        try await withServer(service) { address, _ in
            let connection = try await VarlinkConnection.connect(
                to: address,
                configuration: .init(callTimeout: .milliseconds(100))
            )
            let client = TestAPI.Client(transport: connection)
            await #expect(throws: VarlinkTimeoutError.self) { try await client.hang() }
            await connection.close()
        }
    }

    @Test func onewayCallsGetNoReplyAndDoNotDesynchronize() async throws {
        try await withServer(service) { address, _ in
            let connection = try await VarlinkConnection.connect(to: address)
            let client = TestAPI.Client(transport: connection)
            try await client.oneway(TestAPI.Methods.Fail.self, .init(reason: "nobody hears"))
            #expect(try await client.ping(ping: "x").pong == "x")
            await connection.close()
        }
    }

    @Test func callsFailWhenTheServerGoesAway() async throws {
        let connection = try await withServer(service) { address, _ in
            try await VarlinkConnection.connect(to: address)
        }
        // The server has shut down and closed its connections.
        try await Task.sleep(for: .milliseconds(300))
        await #expect(throws: (any Error).self) { _ = try await TestAPI.Client(transport: connection).ping(ping: "x") }
    }

    @Test func addressesParse() throws {
        #expect(try VarlinkAddress("unix:/run/x.sock") == .unix(path: "/run/x.sock", mode: nil))
        #expect(try VarlinkAddress("unix:/run/x.sock;mode=0660;other=1") == .unix(path: "/run/x.sock", mode: 0o660))
        #expect(try VarlinkAddress("unix:@name") == .abstract(name: "name"))
        #expect(try VarlinkAddress("tcp:127.0.0.1:12345") == .tcp(host: "127.0.0.1", port: 12345))
        #expect(try VarlinkAddress("tcp:[::1]:12345") == .tcp(host: "::1", port: 12345))
        #expect(try VarlinkAddress("exec:/usr/bin/x") == .exec(path: "/usr/bin/x"))
        for bad in ["", "/run/x", "unix:", "tcp:host", "tcp:host:99999", "http://x", "exec:relative", "unix:/x;mode=999"] {
            #expect(throws: VarlinkAddressError.self, "\(bad)") { try VarlinkAddress(bad) }
        }
    }
}
