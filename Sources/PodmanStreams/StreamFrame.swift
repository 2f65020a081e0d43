/// What an upgraded Attach or ExecContainer connection carries, in both directions, as
/// podman 1.x framed it: an 8-byte header (the stream in byte 0, three zero bytes, the
/// payload's length as a big-endian UInt32) and the payload.
public struct StreamFrame: Sendable, Equatable {
    public enum Stream: UInt8, Sendable {
        /// Server to client: the process's output.
        case stdout = 0
        /// Client to server: the process's input.
        case stdin = 1
        /// Server to client: the process's error output (podman 1.9 sent it as stdout).
        case stderr = 2
        /// Client to server: the terminal's size, `{"Width":W,"Height":H}`.
        case resize = 3
        /// Server to client, last: the exit code, a big-endian UInt32.
        case exit = 4
        /// Client to server: the client's input ended (`EOF`).
        case hangUp = 5
    }

    public var stream: Stream
    public var payload: [UInt8]

    public init(_ stream: Stream, _ payload: [UInt8]) {
        self.stream = stream
        self.payload = payload
    }

    public static let headerSize = 8

    /// The frame as it goes on the wire.
    public var encoded: [UInt8] {
        var bytes = Self.header(stream, length: payload.count)
        bytes += payload
        return bytes
    }

    /// The 8 bytes before a payload of `length` bytes.
    public static func header(_ stream: Stream, length: Int) -> [UInt8] {
        let length = UInt32(length)
        return [stream.rawValue, 0, 0, 0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
    }

    /// The last frame of a session.
    public static func exit(_ code: Int32) -> StreamFrame {
        let value = UInt32(bitPattern: code)
        return StreamFrame(.exit, [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    /// What the client sends when its input ends.
    public static let hangUp = StreamFrame(.hangUp, Array("EOF".utf8))

    /// A terminal size, as podman-remote sends it.
    public static func resize(width: Int, height: Int) -> StreamFrame {
        StreamFrame(.resize, Array(#"{"Width":\#(width),"Height":\#(height)}"#.utf8))
    }

    /// The exit code of an `exit` frame.
    public var exitCode: Int32? {
        guard stream == .exit, payload.count == 4 else { return nil }
        return Int32(bitPattern: UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3]))
    }

    /// The size of a `resize` frame. Go read the JSON without regard to case, so
    /// `width`/`height` are taken too.
    public var terminalSize: (width: Int, height: Int)? {
        guard stream == .resize else { return nil }
        let text = String(decoding: payload, as: UTF8.self).lowercased()
        func number(after key: String) -> Int? {
            guard let range = text.firstRange(of: "\"\(key)\"") else { return nil }
            let rest = text[range.upperBound...].drop { $0 == " " || $0 == ":" }
            return Int(rest.prefix { $0.isNumber })
        }
        guard let width = number(after: "width"), let height = number(after: "height") else { return nil }
        return (width, height)
    }
}

/// Splits a byte stream into frames as they complete; bytes may arrive in any pieces.
public struct StreamFrameDecoder: Sendable {
    /// A frame longer than this is refused: the peer is broken or hostile.
    public let maximumPayload: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maximumPayload: Int = 16 << 20) {
        self.maximumPayload = maximumPayload
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer += bytes
    }

    /// The next complete frame, or nil until more bytes come.
    public mutating func next() throws(StreamFrameError) -> StreamFrame? {
        let available = buffer.count - start
        guard available >= StreamFrame.headerSize else { return nil }
        let header = buffer[start..<start + StreamFrame.headerSize]
        guard let stream = StreamFrame.Stream(rawValue: header[start]) else { throw .unknownStream(header[start]) }
        let length = Int(header[start + 4]) << 24 | Int(header[start + 5]) << 16 | Int(header[start + 6]) << 8 | Int(header[start + 7])
        guard length <= maximumPayload else { throw .tooLarge(length, limit: maximumPayload) }
        guard available >= StreamFrame.headerSize + length else { return nil }
        let payloadStart = start + StreamFrame.headerSize
        let frame = StreamFrame(stream, Array(buffer[payloadStart..<payloadStart + length]))
        start = payloadStart + length
        // Compact once the consumed part dominates.
        if start > 1 << 16 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        return frame
    }

    /// Bytes received and not yet part of a returned frame.
    public var pendingBytes: Int { buffer.count - start }
}

public enum StreamFrameError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownStream(UInt8)
    case tooLarge(Int, limit: Int)

    public var description: String {
        switch self {
        case .unknownStream(let byte): "a frame names stream \(byte), which is none of 0-5"
        case .tooLarge(let length, let limit): "a frame of \(length) bytes is over the limit of \(limit)"
        }
    }
}

/// Reads frames as bytes arrive without copying the data streams' payloads more than
/// once: stdin, stdout and stderr bytes are handed on as they come (a large frame in
/// several pieces, each a slice of the chunk that carried it); the control frames
/// (resize, exit, hang-up), which are small, whole.
public struct StreamFrameReader: Sendable {
    public enum Piece {
        /// Payload bytes of a stdin, stdout or stderr frame; `whole` when they are all of it.
        case data(StreamFrame.Stream, ArraySlice<UInt8>, whole: Bool)
        /// A whole resize, exit or hang-up frame.
        case control(StreamFrame)
    }

    public let maximumPayload: Int
    private var header: [UInt8] = []
    private var current: (stream: StreamFrame.Stream, length: Int, remaining: Int)?
    private var control: [UInt8] = []

    public init(maximumPayload: Int = 16 << 20) {
        self.maximumPayload = maximumPayload
    }

    /// Hands every piece `chunk` completes to `handle`, in order.
    public mutating func consume(_ chunk: [UInt8], _ handle: (Piece) throws -> Void) throws {
        var index = chunk.startIndex
        while index < chunk.endIndex {
            guard let frame = current else {
                let take = min(StreamFrame.headerSize - header.count, chunk.endIndex - index)
                header += chunk[index..<index + take]
                index += take
                guard header.count == StreamFrame.headerSize else { return }
                guard let stream = StreamFrame.Stream(rawValue: header[0]) else { throw StreamFrameError.unknownStream(header[0]) }
                let length = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
                guard length <= maximumPayload else { throw StreamFrameError.tooLarge(length, limit: maximumPayload) }
                header = []
                current = (stream, length, length)
                if length == 0 { try finish(stream, handle) }
                continue
            }
            let take = min(frame.remaining, chunk.endIndex - index)
            switch frame.stream {
            case .stdin, .stdout, .stderr: try handle(.data(frame.stream, chunk[index..<index + take], whole: take == frame.length))
            case .resize, .exit, .hangUp: control += chunk[index..<index + take]
            }
            index += take
            current!.remaining -= take
            if current!.remaining == 0 { try finish(frame.stream, handle) }
        }
    }

    private mutating func finish(_ stream: StreamFrame.Stream, _ handle: (Piece) throws -> Void) throws {
        current = nil
        switch stream {
        case .stdin, .stdout, .stderr: return
        case .resize, .exit, .hangUp:
            let payload = control
            control = []
            try handle(.control(StreamFrame(stream, payload)))
        }
    }
}
