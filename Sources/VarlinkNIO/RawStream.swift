import NIOCore

/// Settings for a connection once it carries a raw byte stream (after an upgrade).
enum RawStream {
    /// Varlink messages are small, so NIO's default reads (at most 64 KiB) suit them; a
    /// raw stream is bulk data (a file, a process's output), where every read is a hop
    /// to the task that consumes it. Reads grow up to 1 MiB while the peer keeps them
    /// full, and shrink back when it does not.
    static func allowLargeReads(on channel: any Channel) {
        let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64 << 10, maximum: 1 << 20)
        try? channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: allocator)
    }
}
