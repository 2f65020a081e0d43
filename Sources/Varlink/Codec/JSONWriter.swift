/// Writes compact JSON straight into a byte buffer.
///
/// Generated code drives it field by field; nothing is reflected and no intermediate
/// tree is built, which is where encoding gets its speed. The writer keeps track of
/// separators itself, so callers only say "key", "value", "begin", "end".
public struct JSONWriter: Sendable {
    @usableFromInline var storage: [UInt8]
    /// The JSON written so far.
    public var bytes: [UInt8] { storage }
    /// True when the next value or key in the current container needs a leading comma.
    @usableFromInline var needsComma = false

    public init(capacity: Int = 256) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    @inlinable
    mutating func separator() {
        if needsComma { storage.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    // MARK: Containers

    @inlinable
    public mutating func beginObject() {
        separator()
        storage.append(UInt8(ascii: "{"))
        needsComma = false
    }

    @inlinable
    public mutating func endObject() {
        storage.append(UInt8(ascii: "}"))
        needsComma = true
    }

    @inlinable
    public mutating func beginArray() {
        separator()
        storage.append(UInt8(ascii: "["))
        needsComma = false
    }

    @inlinable
    public mutating func endArray() {
        storage.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key; the next call writes its value.
    @inlinable
    public mutating func key(_ key: StaticString) {
        separator()
        storage.append(UInt8(ascii: "\""))
        // Keys from the generator are identifiers from the IDL: no escaping needed.
        key.withUTF8Buffer { storage.append(contentsOf: $0) }
        storage.append(UInt8(ascii: "\""))
        storage.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an object key that may need escaping (dictionary keys).
    @inlinable
    public mutating func key(_ key: String) {
        separator()
        writeEscaped(key)
        storage.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: Scalars

    @inlinable
    public mutating func null() {
        separator()
        let literal: StaticString = "null"
        literal.withUTF8Buffer { storage.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func bool(_ value: Bool) {
        separator()
        // Written from a StaticString: an if/else over two array literals here came out of
        // the -O build as "false" for a runtime `true` (Swift 6.3.1); the golden and codec
        // tests run in debug, so the benchmark's cross-check is what caught it.
        let literal: StaticString = value ? "true" : "false"
        literal.withUTF8Buffer { storage.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func int(_ value: Int) {
        separator()
        if value >= 0 && value < 10 {
            storage.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // Digits are produced backwards into a small stack buffer.
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var index = 20
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 { storage.append(UInt8(ascii: "-")) }
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<20]))
        }
    }

    /// Writes a float in the shortest form that reads back to the same value.
    /// JSON has no NaN or infinity and varlink forbids sending them, so those throw.
    @inlinable
    public mutating func double(_ value: Double) throws(JSONEncodingError) {
        guard value.isFinite else { throw JSONEncodingError.nonFiniteFloat(value) }
        separator()
        // Swift's description is the shortest round-tripping form ("1.0", "3.141592653589793",
        // "1e-05"), all of which are valid JSON numbers.
        storage.append(contentsOf: value.description.utf8)
    }

    @inlinable
    public mutating func string(_ value: String) {
        separator()
        writeEscaped(value)
    }

    /// Appends a value that is already valid, compact JSON.
    public mutating func raw(_ json: some Sequence<UInt8>) {
        separator()
        storage.append(contentsOf: json)
    }

    @inlinable
    mutating func writeEscaped(_ value: String) {
        storage.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            // Runs without anything to escape are copied whole; bytes >= 0x80 are part of
            // valid UTF-8 (a String guarantees it) and pass through.
            var start = 0
            while true {
                let special = JSONByteScan.firstSpecial(base, from: start, end: utf8.count, stoppingAtNonASCII: false)
                if start < special { storage.append(contentsOf: UnsafeBufferPointer(start: base + start, count: special - start)) }
                guard special < utf8.count else { break }
                appendEscape(of: base[special])
                start = special + 1
            }
        }
        storage.append(UInt8(ascii: "\""))
    }

    @usableFromInline
    mutating func appendEscape(of byte: UInt8) {
        storage.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): storage.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): storage.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "\n"): storage.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): storage.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): storage.append(UInt8(ascii: "t"))
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            storage.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            storage.append(hex[Int(byte >> 4)])
            storage.append(hex[Int(byte & 0xF)])
        }
    }

    /// Appends the NUL byte that ends a varlink message. The next value starts a new
    /// message, so it gets no leading comma.
    public mutating func terminateMessage() {
        storage.append(0)
        needsComma = false
    }
}

/// The value could not be written as JSON.
public enum JSONEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// NaN or an infinity: JSON cannot carry them and varlink forbids them.
    case nonFiniteFloat(Double)

    public var description: String {
        switch self {
        case .nonFiniteFloat(let value):
            "cannot encode the float \(value): JSON has no NaN or infinity"
        }
    }
}
