import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into varlink messages at each NUL byte.
///
/// A message that grows past `maximumMessageSize` without its NUL ends the connection:
/// the peer is broken or hostile, and buffering without a bound is how servers die.
struct NULFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let maximumMessageSize: Int
    /// How far the buffer has been searched already, so a message that arrives in many
    /// reads is scanned once, not once per read.
    private var searched = 0

    init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let alreadySearched = searched
        // memchr: a large message is scanned at memory speed, not byte by byte.
        let found: Int? = buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard alreadySearched < bytes.count, let base = bytes.baseAddress else { return nil }
            guard let hit = memchr(base + alreadySearched, 0, bytes.count - alreadySearched) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
        guard let length = found else {
            searched = buffer.readableBytes
            if buffer.readableBytes > maximumMessageSize {
                throw VarlinkFrameTooLarge(limit: maximumMessageSize)
            }
            return .needMoreData
        }
        searched = 0
        guard length <= maximumMessageSize else { throw VarlinkFrameTooLarge(limit: maximumMessageSize) }
        // The slice shares storage with the receive buffer: no copy.
        let message = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // An unterminated message at EOF is dropped: it was never a message.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// A peer sent more than the configured message size without a NUL.
public struct VarlinkFrameTooLarge: Error, Hashable, Sendable, CustomStringConvertible {
    public var limit: Int
    public var description: String { "a message exceeded the \(limit)-byte limit" }
}
