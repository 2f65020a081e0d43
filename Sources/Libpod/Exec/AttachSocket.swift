import Foundation
import Glibc
import ProcessSpawn
import Synchronization

/// A connection to conmon's attach socket (SOCK_SEQPACKET): output arrives as packets of
/// one stream byte (2 stdout, 3 stderr) and up to 8192 bytes; input goes as raw packets of
/// at most 32768 bytes (conmon silently cuts longer ones, and reads an empty one as the
/// end); `shutdown(SHUT_WR)` ends the input. conmon keeps no history: only what the
/// process writes while connected arrives.
///
/// The socket is blocking and used from threads of its own (`AttachPump`), never from a
/// task thread.
final class AttachSocket: SessionStreams {
    private let descriptor: Int32
    private let closed = Atomic<Bool>(false)

    /// The most conmon takes in one packet.
    static let maximumInputPacket = 32768

    /// Connects to the socket at `path` (of any length).
    init(path: String) throws(LibpodError) {
        descriptor = try UnixSocket.connect(path, type: SOCK_SEQPACKET, what: "conmon's attach socket")
    }


    /// Blocks for the next output; nil at the end (conmon closed, or reset the connection
    /// because it exited before accepting it). Packets that are waiting already and come
    /// from the same stream are joined, up to `limit` bytes: fewer, larger chunks onward.
    func receive(limit: Int = 256 << 10) -> SessionChunk? {
        guard let first = pending.withLock({ held -> [UInt8]? in defer { held = nil }; return held }) ?? receivePacket(waiting: true) else {
            return nil
        }
        let stream = first[0]
        var joined = Array(first.dropFirst())
        while joined.count < limit, let next = receivePacket(waiting: false) {
            guard next[0] == stream else {
                // Another stream's packet starts the next chunk.
                pending.withLock { $0 = next }
                break
            }
            joined += next.dropFirst()
        }
        return stream == 3 ? .stderr(joined) : .stdout(joined)
    }

    /// A packet of another stream met while joining; the next `receive` starts with it.
    /// Only the receiving thread touches it.
    private let pending = Mutex<[UInt8]?>(nil)

    /// One packet (stream byte first), or nil at the end, or when `waiting` is false and
    /// none is there.
    private func receivePacket(waiting: Bool) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 8193)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, waiting ? 0 : Int32(MSG_DONTWAIT)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 1 else { return nil }
            return Array(buffer[0..<count])
        }
    }

    /// Blocks until `bytes` are sent, in packets conmon takes whole. False once the
    /// socket is gone.
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let size = min(Self.maximumInputPacket, bytes.count - offset)
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, size, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Ends the process's input.
    func endInput() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Wakes whatever blocks on the socket (`receive` returns nil, `send` false). The
    /// descriptor itself is closed when the last user lets go, so no thread ever uses
    /// a number that was closed and reused meanwhile.
    func hangUp() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    deinit { Glibc.close(descriptor) }
}
