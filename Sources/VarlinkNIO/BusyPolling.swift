import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a connection's event loop awake for a short window after it answers, polling
/// for the client's next call instead of sleeping in epoll_wait.
///
/// Why: a client that calls one method after another waits, on every call, for the
/// server's thread to be woken. On the virtual machines this project runs on (Firecracker,
/// no halt polling in the guest) waking an idle vCPU costs tens of microseconds, more
/// than the call itself, and every server that sleeps between calls pays it: ours without
/// polling makes about as many sequential calls per second as the Go server, with a
/// third of its CPU per call. Polling for a few tens of microseconds after a reply catches the next call
/// before the thread sleeps.
///
/// The poll blocks the event loop, so it is kept to where it costs nobody else: a
/// connection alone on its event loop, whose client came back promptly after the
/// previous reply, and never longer than the window. A one-off call, a slow client and
/// a busy server never poll.
struct BusyPolling {
    /// How long to poll after a reply.
    let window: Duration
    /// A client that came back within this time after the previous reply is polled for.
    var promptness: Duration { window * 4 }
    let statistics: BusyPollingStatistics

    /// Polls `descriptor` without sleeping until it has something to read (a call or a
    /// hang-up) or the window has passed; the statistics count which came first.
    func poll(_ descriptor: CInt) {
        let deadline = ContinuousClock.now + window
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        repeat {
            if Glibc.poll(&entry, 1, 0) != 0 {
                statistics.answered.add(1, ordering: .relaxed)
                return
            }
            // The client may be waiting for this very CPU (the kernel tends to wake it
            // next to the thread that wrote to it): let it run.
            sched_yield()
        } while ContinuousClock.now < deadline
        statistics.timedOut.add(1, ordering: .relaxed)
    }
}

/// How often busy polling paid off: the operator's measure of whether the window fits
/// the clients.
final class BusyPollingStatistics: Sendable {
    /// Polls that ended with the client's next message (or its hang-up) in hand.
    let answered = Atomic<Int>(0)
    /// Polls that ran out the window: the thread then slept as it would have anyway.
    let timedOut = Atomic<Int>(0)
}

/// The descriptor behind a NIO socket channel, which NIO keeps to itself. Every socket
/// has a kernel cookie (SO_COOKIE, Linux 4.12 and later) that NIO lets us read through
/// the channel; the one descriptor of this process with the same cookie is the channel's.
/// It is valid while the channel is open, and NIO closes it on the channel's event loop,
/// so code on that loop that checks `isActive` first may use it.
enum ChannelDescriptor {
    private static let socketCookie: CInt = 57  // SO_COOKIE; Glibc's headers lack it

    /// Calls `body` with `channel`'s descriptor, or nil when it cannot be found (not a
    /// socket, or no /proc).
    static func find(for channel: any Channel, _ body: @escaping @Sendable (CInt?) -> Void) {
        guard let provider = channel as? any SocketOptionProvider else { return body(nil) }
        let cookie: EventLoopFuture<UInt64> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
            name: NIOBSDSocket.Option(rawValue: socketCookie)
        )
        cookie.whenComplete { result in
            body((try? result.get()).flatMap(descriptor(withCookie:)))
        }
    }

    /// The descriptor of this process whose socket has `cookie`.
    static func descriptor(withCookie cookie: UInt64) -> CInt? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        let listing = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let descriptor = CInt(name), descriptor != listing, self.cookie(of: descriptor) == cookie else { continue }
            return descriptor
        }
        return nil
    }

    /// The cookie of the socket `descriptor`; nil when it is not a socket.
    static func cookie(of descriptor: CInt) -> UInt64? {
        var value: UInt64 = 0
        var length = socklen_t(MemoryLayout<UInt64>.size)
        return getsockopt(descriptor, SOL_SOCKET, socketCookie, &value, &length) == 0 ? value : nil
    }
}
