import Foundation
import Glibc

/// One thing that happened: podman's event record.
public struct Event: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case container, image, pod, volume, system }

    public var time: Date
    public var type: Kind
    /// What happened: create, init, start, stop, died, pause, unpause, remove, refresh, ...
    public var status: String
    public var id: String
    public var name: String
    public var attributes: [String: String]

    public init(time: Date = Date(), type: Kind, status: String, id: String = "", name: String = "", attributes: [String: String] = [:]) {
        self.time = time
        self.type = type
        self.status = status
        self.id = id
        self.name = name
        self.attributes = attributes
    }
}

/// The append-only event log: JSON lines in `tmp_dir/events/events.log`, written by
/// every process that uses the runtime. One `write` per event on an O_APPEND file, so
/// lines from several processes never interleave.
public struct EventLog: Sendable {
    public let path: String

    public init(directory: String) throws(LibpodError) {
        try FileSystem.ensureDirectory(directory, mode: 0o700)
        path = directory + "/events.log"
    }

    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int64((date.timeIntervalSince1970 * 1e9).rounded()))
        }
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    private static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            Date(timeIntervalSince1970: Double(try decoder.singleValueContainer().decode(Int64.self)) / 1e9)
        }
        return decoder
    }

    public func append(_ event: Event) throws(LibpodError) {
        var line: [UInt8]
        do {
            line = Array(try Self.encoder().encode(event))
        } catch {
            throw .encoding(what: "an event", cause: "\(error)")
        }
        line.append(UInt8(ascii: "\n"))
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileSystem.failure("opening the event log", path) }
        defer { close(descriptor) }
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else { throw FileSystem.failure("writing the event log", path) }
    }

    /// The events from `since` on (all when nil), oldest first, and the offset at which
    /// the next unread line starts.
    public func read(since: Date? = nil, from offset: Int = 0) throws(LibpodError) -> (events: [Event], next: Int) {
        guard let bytes = try FileSystem.read(path) else { return ([], 0) }
        guard offset < bytes.count else { return ([], offset) }
        let decoder = Self.decoder()
        var events: [Event] = []
        var start = offset
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            // A line that does not decode (a crash mid-write) is skipped, not fatal.
            if let event = try? decoder.decode(Event.self, from: Data(bytes[start..<newline])),
                since.map({ event.time >= $0 }) ?? true
            {
                events.append(event)
            }
            start = newline + 1
        }
        return (events, start)
    }

    /// The events from `since` on, then every new one as it is written, until the
    /// consumer stops iterating.
    public func follow(since: Date? = nil, pollInterval: Duration = .milliseconds(50)) -> AsyncThrowingStream<Event, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var offset = 0
                var first = true
                do {
                    while !Task.isCancelled {
                        let (events, next) = try read(since: first ? since : nil, from: offset)
                        first = false
                        offset = next
                        for event in events { continuation.yield(event) }
                        try await Task.sleep(for: pollInterval)
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
