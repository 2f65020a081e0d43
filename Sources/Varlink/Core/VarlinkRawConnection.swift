/// What a connection becomes after a successful `upgrade` call: a plain byte stream in
/// both directions, no longer varlink (UAPI.20 "upgrade"). It is transport-neutral so
/// that services and clients written against `Varlink` need no NIO types; the socket
/// transport in VarlinkNIO provides it.
///
/// The first bytes `inbound` yields may have arrived together with the upgrade call or
/// its reply: they belong to the new protocol and are never dropped.
public struct VarlinkRawConnection: Sendable {
    public let inbound: VarlinkRawInbound
    private let writeChunk: @Sendable ([UInt8]) async throws -> Void
    private let finishWriting: @Sendable () async -> Void

    public init(
        inbound: VarlinkRawInbound,
        write: @escaping @Sendable ([UInt8]) async throws -> Void,
        finish: @escaping @Sendable () async -> Void
    ) {
        self.inbound = inbound
        self.writeChunk = write
        self.finishWriting = finish
    }

    /// Writes bytes; waits while the peer is not reading (back-pressure).
    public func write(_ bytes: some Sequence<UInt8>) async throws {
        try await writeChunk(Array(bytes))
    }

    /// Shuts down the sending side: the peer reads end-of-file, and can still answer.
    public func finish() async {
        await finishWriting()
    }
}

/// The bytes a peer sends after an upgrade, in the chunks they arrived in; the sequence
/// ends at the peer's end-of-file.
public struct VarlinkRawInbound: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    private let makeNext: @Sendable () -> (() async throws -> [UInt8]?)

    /// - Parameter makeNext: returns a fresh reader; each call of the reader yields the
    ///   next chunk, or nil at end-of-file.
    public init(makeNext: @escaping @Sendable () -> (() async throws -> [UInt8]?)) {
        self.makeNext = makeNext
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(next: makeNext())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let nextChunk: () async throws -> [UInt8]?

        fileprivate init(next: @escaping () async throws -> [UInt8]?) {
            self.nextChunk = next
        }

        public mutating func next() async throws -> [UInt8]? {
            try await nextChunk()
        }
    }
}

/// The transport cannot carry an upgraded connection (the in-process loopback, say).
public struct VarlinkUpgradeUnsupported: Error, Hashable, Sendable, CustomStringConvertible {
    public var transport: String
    public init(transport: String) { self.transport = transport }
    public var description: String { "\(transport) cannot upgrade a connection; use a socket connection" }
}
