import Foundation
import Libpod

/// Times and durations the way podman 1.x wrote them.
enum PodmanFormat {
    /// RFC 3339 with nanoseconds, UTC: `2026-11-29T05:30:12.123456789Z`. Written digit by
    /// digit: ListContainers formats two times per container, and String(format:) would
    /// be most of its cost.
    static func time(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = floor(seconds)
        var parts = tm()
        var time = time_t(whole)
        gmtime_r(&time, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(30)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        append(Int(parts.tm_year) + 1900, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mon) + 1, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        append(Int(parts.tm_mday), digits: 2)
        bytes.append(UInt8(ascii: "T"))
        append(Int(parts.tm_hour), digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(Int(parts.tm_min), digits: 2)
        bytes.append(UInt8(ascii: ":"))
        append(Int(parts.tm_sec), digits: 2)
        bytes.append(UInt8(ascii: "."))
        append(min(999_999_999, max(0, Int((seconds - whole) * 1e9))), digits: 9)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Go's time.Duration.String(), which podman used for `runningfor`: `1h2m3.5s`
    /// (to the millisecond).
    static func duration(_ interval: TimeInterval) -> String {
        let milliseconds = Int((max(0, interval) * 1000).rounded())
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let hours = milliseconds / 3_600_000
        let minutes = milliseconds / 60_000 % 60
        let seconds = milliseconds / 1000 % 60
        let fraction = milliseconds % 1000
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        text += "\(seconds)"
        if fraction > 0 {
            var digits = String(fraction + 1000).dropFirst()
            while digits.last == "0" { digits.removeLast() }
            text += "." + digits
        }
        return text + "s"
    }

    /// A time given as RFC 3339, unix seconds, or a duration back from now (`10m`, `1h30m`, `45s`).
    static func parseTime(_ text: String, now: Date = Date()) -> Date? {
        if text.isEmpty { return nil }
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? fractional.parse(text) { return date }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        return now.addingTimeInterval(-total)
    }

    /// `512m`, `1g`, `100k`, `1048576` -> bytes (podman's RAMInBytes, binary units).
    static func bytes(_ text: String) -> Int64? {
        let lower = text.lowercased().replacingOccurrences(of: "b", with: "")
        guard let last = lower.last else { return nil }
        let multipliers: [Character: Int64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
        if let multiplier = multipliers[last] {
            guard let value = Double(lower.dropLast()), value >= 0 else { return nil }
            return Int64(value * Double(multiplier))
        }
        return Int64(lower)
    }
}

extension PodmanFormat {
    /// go-units' HumanDuration, which podman's ps uses: "Less than a second",
    /// "About a minute", "3 hours", "2 weeks".
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < 1 { return "Less than a second" }
        if seconds == 1 { return "1 second" }
        if seconds < 60 { return "\(seconds) seconds" }
        let minutes = seconds / 60
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int(interval / 3600 + 0.5)
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int(interval / 3600) / 24 / 365) years"
    }

    /// podman 1.9's ps STATUS column, as its service sent it.
    static func psStatus(_ state: ContainerState, now: Date) -> String {
        switch state.status {
        case .exited, .stopped:
            "Exited (\(state.exitCode)) \(humanDuration(now.timeIntervalSince(state.finishedAt ?? now))) ago"
        case .running, .stopping: "Up \(humanDuration(now.timeIntervalSince(state.startedAt ?? now))) ago"
        case .paused: "Paused"
        case .created, .configured: "Created"
        case .removing: "Removing"
        case .unknown: "Error"
        }
    }

    /// RFC 3339 in whole seconds, as podman wrote `createdat` and image `created`.
    static func seconds(_ date: Date) -> String {
        let text = time(date)
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[..<dot]) + "Z"
    }
}

extension PodmanFormat {
    /// go-units' HumanSizeWithPrecision(bytes, 4): decimal units, four significant
    /// digits: `999B`, `5.861MB`, `1.2GB`.
    static func decimalSize(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: "%.4g", value) + units[unit]
    }
}

extension PodmanFormat {
    /// podman info's uptime: Go's duration with a space after each unit, and the days
    /// once it is an hour or more: `3h 25m 45.67s (Approximately 0.14 days)`.
    static func uptime(_ seconds: Double) -> String {
        let hundredths = Int((seconds * 100).rounded())
        let hours = hundredths / 360_000
        let minutes = hundredths / 6000 % 60
        let rest = Double(hundredths % 6000) / 100
        var text = ""
        if hours > 0 { text += "\(hours)h " }
        if hours > 0 || minutes > 0 { text += "\(minutes)m " }
        var secondsText = String(format: "%.2f", rest)
        while secondsText.hasSuffix("0") { secondsText.removeLast() }
        if secondsText.hasSuffix(".") { secondsText.removeLast() }
        text += secondsText + "s"
        if hours > 0 { text += String(format: " (Approximately %.2f days)", Double(hours) / 24) }
        return text
    }
}
