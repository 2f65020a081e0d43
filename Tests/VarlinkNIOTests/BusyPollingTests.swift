import NIOPosix
import PodlinkTestSupport
import Testing
import Varlink

@testable import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// When the server polls for a client's next call instead of sleeping, and when it must
/// not: the poll holds the event loop, so it is only for a prompt client alone on its loop.
/// Each test has an event loop group of its own, so that which connections share a loop
/// is known.
@Suite(.timeLimit(.minutes(1)))
struct BusyPollingTests {
    let service = TestService.makeService().0
    static let ping = #"{"method":"org.podlink.test.Ping","parameters":{"ping":"x"}}"#
    static let pong = RawClient.Received.message(#"{"parameters":{"pong":"x"}}"#)

    /// The server never polls on a machine with one CPU.
    static let parallel = sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1

    /// A window generous enough for a debug build on a loaded machine.
    static func polling(_ configuration: inout VarlinkServer.Configuration) {
        configuration.busyPollingWindow = .milliseconds(20)
    }

    @Test(.enabled(if: parallel, "polling needs a second CPU")) func aClientCallingBackToBackIsPolledFor() async throws {
        try await withOwnGroup { group in
            try await withServer(service, configure: Self.polling, group: group) { address, server in
                let client = try RawClient(path: path(address))
                let replies = await client.callBackToBack(Self.ping, count: 200)
                #expect(replies.allSatisfy { $0 == Self.pong }, "\(Set(replies.map { "\($0)" }))")
                let polls = server.busyPolling
                // The first call is never polled for (nothing to judge the client by); of
                // the others, nearly all should arrive within the window.
                #expect(polls.answered >= 100, "\(polls)")
                #expect(polls.answered + polls.timedOut <= 199, "\(polls)")
            }
        }
    }

    @Test func withoutAWindowNothingPolls() async throws {
        try await withOwnGroup { group in
            try await withServer(service, configure: { $0.busyPollingWindow = nil }, group: group) { address, server in
                let replies = try await RawClient(path: path(address)).callBackToBack(Self.ping, count: 50)
                #expect(replies.allSatisfy { $0 == Self.pong })
                #expect(server.busyPolling == (0, 0))
            }
        }
    }

    @Test func aOneOffCallIsNotPolledFor() async throws {
        try await withOwnGroup { group in
            try await withServer(service, configure: Self.polling, group: group) { address, server in
                for _ in 0..<10 {
                    let replies = try await RawClient(path: path(address)).callBackToBack(Self.ping, count: 1)
                    #expect(replies == [Self.pong])
                }
                #expect(server.busyPolling == (0, 0))
            }
        }
    }

    @Test(.enabled(if: parallel, "polling needs a second CPU")) func aConnectionSharingItsLoopIsNotPolledFor() async throws {
        try await withOwnGroup { group in
            try await withServer(service, configure: Self.polling, group: group) { address, server in
                var other: RawClient? = try RawClient(path: path(address))
                #expect(await other?.callBackToBack(Self.ping, count: 1) == [Self.pong])
                let client = try RawClient(path: path(address))
                let replies = await client.callBackToBack(Self.ping, count: 50)
                #expect(replies.allSatisfy { $0 == Self.pong })
                #expect(server.busyPolling == (0, 0), "another connection is on the loop")
                // Alone again once the other hangs up (which the server learns in its own time).
                other = nil
                let deadline = ContinuousClock.now + .seconds(20)
                while server.busyPolling.answered == 0 && ContinuousClock.now < deadline {
                    #expect(await client.callBackToBack(Self.ping, count: 20).allSatisfy { $0 == Self.pong })
                }
                #expect(server.busyPolling.answered > 0, "polled for once alone on the loop")
            }
        }
    }

    @Test(.enabled(if: parallel, "polling needs a second CPU")) func aHangUpEndsThePollAtOnce() async throws {
        try await withOwnGroup { group in
            // A window the test would notice: a poll that missed the hang-up would run out
            // and count as timed out.
            try await withServer(service, configure: { $0.busyPollingWindow = .seconds(2) }, group: group) { address, server in
                var client: RawClient? = try RawClient(path: path(address))
                #expect(await client?.callBackToBack(Self.ping, count: 3).allSatisfy { $0 == Self.pong } == true)
                // The poll after the second reply caught the third call; the one after the
                // third reply is waiting now.
                #expect(server.busyPolling.answered == 1)
                client = nil
                try await waitUntil { server.busyPolling.answered == 2 }
                #expect(server.busyPolling.timedOut == 0)
                // And the loop is free: a new client is served.
                let replies = try await RawClient(path: path(address)).callBackToBack(Self.ping, count: 1)
                #expect(replies == [Self.pong])
            }
        }
    }

    @Test func aChannelsDescriptorIsFoundByItsSocketCookie() throws {
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { pair.forEach { close($0) } }
        let cookies = pair.map(ChannelDescriptor.cookie(of:))
        let first = try #require(cookies[0])
        #expect(cookies[1] != nil && cookies[1] != first, "each socket has its own cookie")
        #expect(ChannelDescriptor.descriptor(withCookie: first) == pair[0])
        let file = open("/dev/null", O_RDONLY)
        defer { close(file) }
        #expect(file >= 0 && ChannelDescriptor.cookie(of: file) == nil, "not a socket: no cookie")
        #expect(ChannelDescriptor.descriptor(withCookie: 0) == nil)
    }

    private func withOwnGroup(_ body: (MultiThreadedEventLoopGroup) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await body(group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }
}
