import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into varlink messages at each NUL byte, one message at a time.
///
/// It hands out a message only when asked, never splitting ahead: after an upgrade the
/// bytes past the upgrade call's NUL belong to another protocol, and `takeRemaining`
/// returns them untouched. A message that grows past `maximumMessageSize` without its
/// NUL is an error: the peer is broken or hostile, and buffering without a bound is how
/// servers die.
struct NULFramer {
    let maximumMessageSize: Int
    private var buffer: ByteBuffer?
    /// How far the unterminated tail has been searched already, so a message that
    /// arrives in many reads is scanned once, not once per read.
    private var searched = 0

    init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// Bytes received and not yet handed out.
    var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    mutating func append(_ bytes: ByteBuffer) {
        if buffer == nil || buffer!.readableBytes == 0 {
            // The common case, a read that starts a new message: adopt its storage.
            buffer = bytes
        } else {
            var bytes = bytes
            buffer!.writeBuffer(&bytes)
        }
    }

    /// The next complete message (without its NUL), or nil until more bytes arrive.
    mutating func next() throws(VarlinkFrameTooLarge) -> ByteBuffer? {
        guard var current = buffer else { return nil }
        let alreadySearched = searched
        // memchr: a large message is scanned at memory speed, not byte by byte.
        let found: Int? = current.withUnsafeReadableBytes { bytes -> Int? in
            guard alreadySearched < bytes.count, let base = bytes.baseAddress else { return nil }
            guard let hit = memchr(base + alreadySearched, 0, bytes.count - alreadySearched) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
        guard let length = found else {
            searched = current.readableBytes
            if current.readableBytes > maximumMessageSize { throw VarlinkFrameTooLarge(limit: maximumMessageSize) }
            return nil
        }
        searched = 0
        guard length <= maximumMessageSize else { throw VarlinkFrameTooLarge(limit: maximumMessageSize) }
        buffer = nil  // keep the storage uniquely referenced while slicing
        // The slice shares storage with the receive buffer: no copy.
        let message = current.readSlice(length: length)!
        current.moveReaderIndex(forwardBy: 1)
        buffer = current.readableBytes > 0 ? current : nil
        return message
    }

    /// Everything not handed out as a message, for the protocol that follows an upgrade.
    mutating func takeRemaining() -> ByteBuffer? {
        defer {
            buffer = nil
            searched = 0
        }
        guard let buffer, buffer.readableBytes > 0 else { return nil }
        return buffer
    }
}

/// A peer sent more than the configured message size without a NUL.
public struct VarlinkFrameTooLarge: Error, Hashable, Sendable, CustomStringConvertible {
    public var limit: Int
    public var description: String { "a message exceeded the \(limit)-byte limit" }
}
