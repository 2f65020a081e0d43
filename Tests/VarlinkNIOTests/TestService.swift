import Synchronization
import Varlink

typealias TestAPI = OrgPodlinkTest

/// The implementation behind org.podlink.test.
struct TestService: OrgPodlinkTest.ServiceProtocol {
    let counters = Counters()

    final class Counters: Sendable {
        let running = Atomic<Int>(0)
        let cancelled = Atomic<Int>(0)
    }

    func ping(_ parameters: TestAPI.Methods.Ping.Parameters, call: VarlinkCall<TestAPI.Methods.Ping.Reply>) async throws
        -> TestAPI.Methods.Ping.Reply
    {
        .init(pong: parameters.ping)
    }

    func count(_ parameters: TestAPI.Methods.Count.Parameters, call: VarlinkCall<TestAPI.Methods.Count.Reply>)
        async throws -> TestAPI.Methods.Count.Reply
    {
        guard call.wantsMore else { throw VarlinkError.expectedMore }
        for number in stride(from: parameters.count, to: 0, by: -1) {
            try await call.sendContinues(.init(number: number))
        }
        return .init(number: 0)
    }

    func hang(_ parameters: TestAPI.Methods.Hang.Parameters, call: VarlinkCall<TestAPI.Methods.Hang.Reply>)
        async throws -> TestAPI.Methods.Hang.Reply
    {
        counters.running.add(1, ordering: .relaxed)
        defer { counters.running.subtract(1, ordering: .relaxed) }
        do {
            try await Task.sleep(for: .seconds(3600))
        } catch {
            counters.cancelled.add(1, ordering: .relaxed)
            throw error
        }
        return .init()
    }

    func fail(_ parameters: TestAPI.Methods.Fail.Parameters, call: VarlinkCall<TestAPI.Methods.Fail.Reply>)
        async throws -> TestAPI.Methods.Fail.Reply
    {
        throw TestAPI.Failed(reason: parameters.reason)
    }

    func echo(_ parameters: TestAPI.Methods.Echo.Parameters, call: VarlinkCall<TestAPI.Methods.Echo.Reply>)
        async throws -> TestAPI.Methods.Echo.Reply
    {
        let reply = TestAPI.Methods.Echo.Reply(greeting: parameters.greeting)
        try await call.upgrade(confirming: reply) { raw in
            for try await chunk in raw.inbound { try await raw.write(chunk) }
            await raw.finish()
        }
        return reply
    }

    func absorb(_ parameters: TestAPI.Methods.Absorb.Parameters, call: VarlinkCall<TestAPI.Methods.Absorb.Reply>)
        async throws -> TestAPI.Methods.Absorb.Reply
    {
        let reply = TestAPI.Methods.Absorb.Reply(length: parameters.length)
        let counters = self.counters
        try await call.upgrade(confirming: reply, receivingBytes: max(0, parameters.length)) { raw in
            guard parameters.length >= 0 else { throw TestAPI.Failed(reason: "negative length") }
            var sum = 0
            do {
                for try await chunk in raw.inbound {
                    for byte in chunk { sum += Int(byte) }
                    // A slow reader: the transport must hold the client back, not buffer.
                    if parameters.length > 1 << 20 { try await Task.sleep(for: .microseconds(50)) }
                }
            } catch {
                counters.cancelled.add(1, ordering: .relaxed)
                throw error
            }
            try await raw.write(Array("\(sum):".utf8))
        }
        return reply
    }

    func stats(_ parameters: TestAPI.Methods.Stats.Parameters, call: VarlinkCall<TestAPI.Methods.Stats.Reply>)
        async throws -> TestAPI.Methods.Stats.Reply
    {
        .init(running: counters.running.load(ordering: .relaxed), cancelled: counters.cancelled.load(ordering: .relaxed))
    }

    static func makeService() -> (VarlinkService, TestService) {
        let implementation = TestService()
        let service = VarlinkService(
            info: VarlinkServiceInfo(vendor: "Podlink", product: "tests", version: "0", url: ""),
            interfaces: [implementation.varlinkInterface]
        )
        return (service, implementation)
    }
}
