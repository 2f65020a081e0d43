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
