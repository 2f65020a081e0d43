import Foundation
import Libpod

/// Times and durations the way podman 1.x wrote them.
enum PodmanFormat {
    /// RFC 3339 with nanoseconds, UTC: `2026-11-29T05:30:12.123456789Z`.
    static func time(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = floor(seconds)
        let nanoseconds = Int((seconds - whole) * 1e9)
        var parts = tm()
        var time = time_t(whole)
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), nanoseconds)
    }

    /// Go's time.Duration.String(), which podman used for `runningfor`: `1h2m3.5s`.
    static func duration(_ interval: TimeInterval) -> String {
        if interval < 1 { return String(format: "%.0fms", max(0, interval) * 1000) }
        var rest = interval
        let hours = Int(rest / 3600)
        rest -= Double(hours * 3600)
        let minutes = Int(rest / 60)
        rest -= Double(minutes * 60)
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        return text + String(format: "%.3gs", rest)
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
