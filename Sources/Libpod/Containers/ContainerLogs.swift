import Foundation

/// One line a container wrote, from conmon's k8s-file log.
public struct LogLine: Sendable, Equatable {
    public enum Stream: String, Sendable { case stdout, stderr }
    public var time: Date
    public var stream: Stream
    public var text: String
}

/// What `podman logs` takes.
public struct LogOptions: Sendable, Equatable {
    /// Only the last `tail` lines (of what `since` leaves); nil for all.
    public var tail: Int?
    public var since: Date?
    /// Keep reading until the container stops.
    public var follow = false
    public var stdout = true
    public var stderr = true

    public init(tail: Int? = nil, since: Date? = nil, follow: Bool = false, stdout: Bool = true, stderr: Bool = true) {
        self.tail = tail
        self.since = since
        self.follow = follow
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// conmon's k8s-file format: `TIME STREAM TAG TEXT`, TIME in RFC 3339 with nanoseconds,
/// TAG `F` for a full line or `P` for a part that the next line continues.
enum K8sFileLog {
    /// Parses complete lines from `bytes`, joining partial ones; returns the lines and how
    /// many bytes were consumed (an unterminated last line waits for more).
    static func parse(_ bytes: ArraySlice<UInt8>, pending: inout LogLine?) -> (lines: [LogLine], consumed: Int) {
        var lines: [LogLine] = []
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            defer { start = newline + 1 }
            let fields = bytes[start..<newline].split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3, let time = parseTime(fields[0]) else { continue }
            let stream: LogLine.Stream = fields[1].elementsEqual("stderr".utf8) ? .stderr : .stdout
            let text = fields.count > 3 ? String(decoding: fields[3], as: UTF8.self) : ""
            let partial = fields[2].first == UInt8(ascii: "P")
            if var joined = pending, joined.stream == stream {
                joined.text += text
                pending = nil
                if partial { pending = joined } else { lines.append(joined) }
            } else if partial {
                pending = LogLine(time: time, stream: stream, text: text)
            } else {
                lines.append(LogLine(time: time, stream: stream, text: text))
            }
        }
        return (lines, start - bytes.startIndex)
    }

    /// `2026-11-29T01:06:00.123456789+00:00` (or `Z`).
    static func parseTime(_ bytes: ArraySlice<UInt8>) -> Date? {
        let text = Array(bytes)
        guard text.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard index < text.count, text[index] >= 0x30, text[index] <= 0x39 else { return nil }
                value = value * 10 + Int(text[index] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < text.count, text[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < text.count, text[index] >= 0x30, text[index] <= 0x39 {
                fraction += Double(text[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        if index < text.count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
            let sign = text[index] == UInt8(ascii: "-") ? -1 : 1
            guard let hours = number(index + 1..<index + 3), let minutes = number(index + 4..<index + 6) else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        // Days from the civil date (Howard Hinnant's algorithm), so no calendar is needed.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }
}

extension Runtime {
    /// podman logs: the container's output as lines, from the start or `since`, the last
    /// `tail` of them, then (with `follow`) every new line until the container stops or the
    /// consumer stops iterating.
    public func containerLogs(_ idOrName: String, options: LogOptions = LogOptions()) async throws(LibpodError) -> AsyncThrowingStream<LogLine, any Error> {
        let container = try await container(idOrName)
        guard container.config.log.driver != .none else {
            throw .unsupported(feature: "reading the logs of container \(container.id.prefix(12))", advice: "it was created with the none log driver, which keeps nothing")
        }
        let path = logPath(container.config)
        let id = container.id
        return AsyncThrowingStream { continuation in
            let task = Task {
                var offset = 0
                var pending: LogLine?
                var first = true
                func wanted(_ line: LogLine) -> Bool {
                    (line.stream == .stdout ? options.stdout : options.stderr) && options.since.map { line.time >= $0 } ?? true
                }
                do {
                    while !Task.isCancelled {
                        let bytes = (try FileSystem.read(path)) ?? []
                        // conmon truncates the log at max_log_size: start over from the top.
                        if bytes.count < offset {
                            offset = 0
                            pending = nil
                        }
                        var lines: [LogLine] = []
                        if offset < bytes.count {
                            let parsed = K8sFileLog.parse(bytes[offset...], pending: &pending)
                            offset += parsed.consumed
                            lines = parsed.lines.filter(wanted)
                        }
                        if first, let tail = options.tail { lines = Array(lines.suffix(max(0, tail))) }
                        first = false
                        for line in lines { continuation.yield(line) }
                        guard options.follow else { break }
                        let current = try await self.state.container(id: id)
                        if ![.running, .paused, .stopping, .created].contains(current.state.status)
                            || FileSystem.exists(self.exitWatcher.exitFile(id))
                        {
                            // One more read catches what was written just before the exit.
                            let rest = (try FileSystem.read(path)) ?? []
                            if offset < rest.count {
                                for line in K8sFileLog.parse(rest[offset...], pending: &pending).lines.filter(wanted) {
                                    continuation.yield(line)
                                }
                            }
                            break
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    if let pending, wanted(pending) { continuation.yield(pending) }
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
