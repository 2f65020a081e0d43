/// The strict JSON parser behind `JSONDocument`: RFC 8259 plus what varlink needs.
///
/// - The input must be UTF-8; strings must not hold raw control characters; escapes must
///   be well formed and surrogates paired (`\u0000` is allowed, except in keys).
/// - Duplicate keys are an error (RFC 8259 leaves them undefined; varlink peers disagree
///   on what they mean, so a server must not guess).
/// - Integers (no fraction, no exponent) must fit Int64; reals must be finite.
/// - Nesting is bounded (`maximumDepth`), without recursion, so no input can exhaust the stack.
/// - Nothing but whitespace may follow the value.
///
/// It accepts and rejects what jansson (with `JSON_REJECT_DUPLICATES`) does, and produces
/// the same values: the test suite and the fuzzer hold it to that. The one exception is
/// a raw NUL byte after a number or a literal, which jansson's look-ahead drops and this
/// parser rejects.
struct JSONParser: ~Copyable {
    static let maximumDepth = 2048

    private let input: UnsafePointer<UInt8>
    private let end: Int
    private var position = 0
    private var tape: JSONTapeBuffer<JSONTapeEntry>
    private var side = JSONTapeBuffer<UInt8>(initialCapacity: 64)
    /// The innermost open container's tape index, -1 at the top level. While a container
    /// is open its entry's payload links to its parent's and its count runs, so the
    /// stack of open containers costs no memory of its own.
    private var innermost = -1
    private var depth = 0
    /// Scratch for the duplicate-key check of large objects.
    private var keyScratch: [(hash: Int, entry: Int)] = []

    struct Result {
        var entries: UnsafeMutableBufferPointer<JSONTapeEntry>
        /// nil when no string had escapes.
        var side: UnsafeMutableBufferPointer<UInt8>?
    }

    init(_ input: UnsafePointer<UInt8>, count: Int) {
        self.input = input
        self.end = count
        // Roughly one value per 8 bytes in typical messages; the buffer grows if not.
        tape = JSONTapeBuffer(initialCapacity: count / 8 + 4)
    }

    mutating func parse(anyTopLevel: Bool) throws(JSONSyntaxError) -> Result {
        skipWhitespace()
        guard position < end else { throw failure("no JSON value (the input is empty or blank)") }
        if !anyTopLevel && input[position] != UInt8(ascii: "{") && input[position] != UInt8(ascii: "[") {
            throw failure("expected an object or an array, found \(found())")
        }
        try parseValues()
        skipWhitespace()
        guard position == end else { throw failure("expected the end of the input after the value, found \(found())") }
        // A value was parsed, so the tape holds at least one entry.
        return Result(entries: tape.take().unsafelyUnwrapped, side: side.take())
    }

    // MARK: Structure

    /// Parses one whole value, containers included, without recursion: the open
    /// containers are linked through the tape (see `innermost`).
    private mutating func parseValues() throws(JSONSyntaxError) {
        while true {
            // A value is expected here.
            skipWhitespace()
            guard position < end else { throw failure("unexpected end of input, expected a value") }
            // Every value counts towards the depth, scalars too (as in jansson): a scalar
            // inside 2048 containers is one level too deep.
            guard depth < Self.maximumDepth else {
                throw failure("nesting deeper than \(Self.maximumDepth) levels (the maximum depth)")
            }
            switch input[position] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = input[position] == UInt8(ascii: "{")
                openContainer(isObject: isObject)
                skipWhitespace()
                if position < end && input[position] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    position += 1
                    try closeContainer()
                } else {
                    // On to the first member (its key first) or the first element.
                    if isObject { try parseKey() }
                    continue
                }
            case UInt8(ascii: "\""):
                try parseString(isKey: false)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try parseNumber()
            case UInt8(ascii: "t"):
                try parseLiteral("true", as: .true)
            case UInt8(ascii: "f"):
                try parseLiteral("false", as: .false)
            case UInt8(ascii: "n"):
                try parseLiteral("null", as: .null)
            default:
                throw failure("expected a value, found \(found())")
            }

            // A value is complete: what may follow depends on the container it is in.
            while true {
                guard innermost >= 0 else { return }
                guard tape[innermost].count < UInt32.max else { throw failure("more than 4,294,967,295 values in one container") }
                tape[innermost].count += 1
                let isObject = tape[innermost].tag == .object
                skipWhitespace()
                guard position < end else {
                    throw failure("unexpected end of input inside an \(isObject ? "object" : "array")")
                }
                let byte = input[position]
                position += 1
                if isObject {
                    if byte == UInt8(ascii: ",") {
                        skipWhitespace()
                        try parseKey()
                        break
                    }
                    guard byte == UInt8(ascii: "}") else {
                        position -= 1
                        throw failure("expected ',' or '}' after an object member, found \(found())")
                    }
                } else {
                    if byte == UInt8(ascii: ",") { break }
                    guard byte == UInt8(ascii: "]") else {
                        position -= 1
                        throw failure("expected ',' or ']' after an array element, found \(found())")
                    }
                }
                // The container closed: it is itself a complete value of its parent.
                try closeContainer()
            }
        }
    }

    private mutating func openContainer(isObject: Bool) {
        let parent = UInt64(bitPattern: Int64(innermost))
        innermost = tape.count
        depth += 1
        tape.append(JSONTapeEntry(tag: isObject ? .object : .array, payload: parent))
        position += 1
    }

    /// Finishes the innermost container's entry (its payload becomes the index past its
    /// end) and makes its parent the innermost; the caller then counts it as a complete
    /// value of that parent.
    private mutating func closeContainer() throws(JSONSyntaxError) {
        let container = tape[innermost]
        if container.tag == .object && container.count > 1 { try checkDuplicateKeys(object: innermost) }
        tape[innermost].payload = UInt64(tape.count)
        innermost = Int(Int64(bitPattern: container.payload))
        depth -= 1
    }

    private mutating func parseKey() throws(JSONSyntaxError) {
        guard position < end, input[position] == UInt8(ascii: "\"") else {
            throw failure("expected a string key, found \(found())")
        }
        try parseString(isKey: true)
        skipWhitespace()
        guard position < end, input[position] == UInt8(ascii: ":") else {
            throw failure("expected ':' after an object key, found \(found())")
        }
        position += 1
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < end {
            switch input[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    private mutating func parseLiteral(_ word: StaticString, as tag: JSONTapeTag) throws(JSONSyntaxError) {
        let length = word.utf8CodeUnitCount
        guard end - position >= length, jsonBytesEqual(input + position, word.utf8Start, count: length) else {
            throw failure("expected a value, found \(found())")
        }
        position += length
        tape.append(JSONTapeEntry(tag: tag))
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONSyntaxError) {
        let start = position
        let negative = input[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        guard position < end, isDigit(input[position]) else {
            throw failure("invalid number: expected a digit after '-'", at: start)
        }
        if input[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < end && isDigit(input[position]) { position += 1 }
        }
        var integral = true
        if position < end && input[position] == UInt8(ascii: ".") {
            position += 1
            guard position < end, isDigit(input[position]) else {
                throw failure("invalid number: expected a digit after '.'", at: start)
            }
            while position < end && isDigit(input[position]) { position += 1 }
            integral = false
        }
        if position < end && (input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E")) {
            position += 1
            if position < end && (input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard position < end, isDigit(input[position]) else {
                throw failure("invalid number: expected a digit in the exponent", at: start)
            }
            while position < end && isDigit(input[position]) { position += 1 }
            integral = false
        }

        if integral {
            // Accumulated on the negative side, which reaches Int64.min.
            var value: Int64 = 0
            for index in (negative ? start + 1 : start)..<position {
                let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowB) = shifted.subtractingReportingOverflow(Int64(input[index] &- UInt8(ascii: "0")))
                guard !overflowA && !overflowB else {
                    throw failure("integer too big for 64 bits (too big \(negative ? "negative " : "")integer)", at: start)
                }
                value = next
            }
            if !negative {
                guard value != .min else { throw failure("integer too big for 64 bits (too big integer)", at: start) }
                value = -value
            }
            tape.append(JSONTapeEntry(tag: .int, payload: UInt64(bitPattern: value)))
        } else {
            // Reals are rare in varlink; the standard library's conversion rounds correctly.
            let text = String(decoding: UnsafeBufferPointer(start: input + start, count: position - start), as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                throw failure("real number overflow: \(text) does not fit a double", at: start)
            }
            tape.append(JSONTapeEntry(tag: .float, payload: value.bitPattern))
        }
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    // MARK: Strings

    /// Parses the string at `position` (its opening quote). Strings without escapes point
    /// into the input; others are unescaped into the side buffer.
    private mutating func parseString(isKey: Bool) throws(JSONSyntaxError) {
        let start = position + 1
        var index = start
        while true {
            index = JSONByteScan.firstSpecial(input, from: index, end: end, stoppingAtNonASCII: true)
            guard index < end else { throw failure("unterminated string", at: start - 1) }
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                tape.append(JSONTapeEntry(tag: .string, payload: UInt64(start), count: try length(index - start)))
                position = index + 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                try parseEscapedString(from: start, firstEscape: index, isKey: isKey)
                return
            }
            if byte < 0x20 { throw failure("a control character (byte 0x\(hex(byte))) inside a string must be escaped", at: index) }
            index = try skipUTF8Sequence(at: index)
        }
    }

    /// Checks the UTF-8 sequence that starts at `index` (a byte of 0x80 or more) and
    /// returns the index after it. Overlong forms, surrogates and values past U+10FFFF
    /// are invalid, as in the Unicode standard's table of well-formed sequences.
    private func skipUTF8Sequence(at index: Int) throws(JSONSyntaxError) -> Int {
        let lead = input[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw failure("invalid UTF-8 (byte 0x\(hex(lead)))", at: index)
        }
        guard end - index >= length else { throw failure("invalid UTF-8: a truncated sequence", at: index) }
        let second = input[index + 1]
        guard second >= low && second <= high else { throw failure("invalid UTF-8 (bytes 0x\(hex(lead)) 0x\(hex(second)))", at: index) }
        for offset in 2..<length where input[index + offset] & 0xC0 != 0x80 {
            throw failure("invalid UTF-8: a truncated sequence", at: index)
        }
        return index + length
    }

    /// The slow path: a string with escapes, unescaped into the side buffer.
    private mutating func parseEscapedString(from start: Int, firstEscape: Int, isKey: Bool) throws(JSONSyntaxError) {
        let sideStart = side.count
        side.append(contentsOf: UnsafeBufferPointer(start: input + start, count: firstEscape - start))
        var index = firstEscape
        while true {
            guard index < end else { throw failure("unterminated string", at: start - 1) }
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "\""):
                tape.append(JSONTapeEntry(tag: .escapedString, payload: UInt64(sideStart), count: try length(side.count - sideStart)))
                position = index + 1
                return
            case UInt8(ascii: "\\"):
                index = try unescape(at: index, isKey: isKey)
            case 0..<0x20:
                throw failure("a control character (byte 0x\(hex(byte))) inside a string must be escaped", at: index)
            case 0x80...:
                let next = try skipUTF8Sequence(at: index)
                side.append(contentsOf: UnsafeBufferPointer(start: input + index, count: next - index))
                index = next
            default:
                side.append(byte)
                index += 1
            }
        }
    }

    /// Decodes the escape at `index` (its backslash) into the side buffer.
    private mutating func unescape(at index: Int, isKey: Bool) throws(JSONSyntaxError) -> Int {
        guard index + 1 < end else { throw failure("unterminated string", at: index) }
        let decoded: UInt8
        switch input[index + 1] {
        case UInt8(ascii: "\""): decoded = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): decoded = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): decoded = UInt8(ascii: "/")
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
        case UInt8(ascii: "u"):
            return try unescapeUnicode(at: index, isKey: isKey)
        default:
            throw failure("invalid escape '\\\(printable(input[index + 1]))' in a string", at: index)
        }
        side.append(decoded)
        return index + 2
    }

    private mutating func unescapeUnicode(at index: Int, isKey: Bool) throws(JSONSyntaxError) -> Int {
        var scalar = try hexQuad(at: index)
        var next = index + 6
        if scalar >= 0xD800 && scalar <= 0xDBFF {
            guard end - next >= 6, input[next] == UInt8(ascii: "\\"), input[next + 1] == UInt8(ascii: "u") else {
                throw failure("invalid Unicode escape: the high surrogate \\u\(hex16(scalar)) is not followed by a low one", at: index)
            }
            let low = try hexQuad(at: next)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw failure("invalid Unicode escape: the high surrogate \\u\(hex16(scalar)) is followed by \\u\(hex16(low))", at: index)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            next += 6
        } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
            throw failure("invalid Unicode escape: a lone low surrogate \\u\(hex16(scalar))", at: index)
        }
        if scalar == 0 && isKey { throw failure("\\u0000 is not supported in object keys", at: index) }
        // UTF-8 encoding of a valid scalar value.
        switch scalar {
        case 0..<0x80:
            side.append(UInt8(scalar))
        case 0x80..<0x800:
            side.append(UInt8(0xC0 | (scalar >> 6)))
            side.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            side.append(UInt8(0xE0 | (scalar >> 12)))
            side.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            side.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            side.append(UInt8(0xF0 | (scalar >> 18)))
            side.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            side.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            side.append(UInt8(0x80 | (scalar & 0x3F)))
        }
        return next
    }

    /// The four hex digits of the `\uXXXX` escape whose backslash is at `index`.
    private func hexQuad(at index: Int) throws(JSONSyntaxError) -> UInt32 {
        guard end - index >= 6 else { throw failure("invalid \\u escape: expected four hex digits", at: index) }
        var value: UInt32 = 0
        for offset in 2..<6 {
            let byte = input[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape: expected four hex digits", at: index)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private func length(_ count: Int) throws(JSONSyntaxError) -> UInt32 {
        guard let length = UInt32(exactly: count) else { throw failure("a string longer than 4 GiB") }
        return length
    }

    // MARK: Duplicate keys

    private mutating func checkDuplicateKeys(object: Int) throws(JSONSyntaxError) {
        let count = Int(tape[object].count)
        // Small objects (every varlink struct): compare each pair.
        if count <= 16 {
            var later = object + 1
            for laterIndex in 0..<count {
                var earlier = object + 1
                for _ in 0..<laterIndex {
                    if sameKey(earlier, later) { throw duplicate(later) }
                    earlier = next(after: earlier + 1)
                }
                later = next(after: later + 1)
            }
            return
        }
        // Large maps: sort by hash, then compare neighbours with equal hashes.
        keyScratch.removeAll(keepingCapacity: true)
        var entry = object + 1
        for _ in 0..<count {
            var hasher = Hasher()
            hasher.combine(bytes: UnsafeRawBufferPointer(keyBytes(entry)))
            keyScratch.append((hasher.finalize(), entry))
            entry = next(after: entry + 1)
        }
        keyScratch.sort { $0.hash < $1.hash }
        var first = 0
        while first < keyScratch.count {
            var last = first + 1
            while last < keyScratch.count && keyScratch[last].hash == keyScratch[first].hash { last += 1 }
            if last - first > 1 {
                for later in (first + 1)..<last {
                    for earlier in first..<later where sameKey(keyScratch[earlier].entry, keyScratch[later].entry) {
                        throw duplicate(max(keyScratch[earlier].entry, keyScratch[later].entry))
                    }
                }
            }
            first = last
        }
    }

    /// The index of the entry after the value at `entry`.
    private func next(after entry: Int) -> Int {
        let value = tape[entry]
        return value.tag == .array || value.tag == .object ? Int(value.payload) : entry + 1
    }

    private func keyBytes(_ entry: Int) -> UnsafeBufferPointer<UInt8> {
        let key = tape[entry]
        let base = key.tag == .string ? input : UnsafePointer(side.elements.unsafelyUnwrapped)
        return UnsafeBufferPointer(start: base + Int(key.payload), count: Int(key.count))
    }

    private func sameKey(_ a: Int, _ b: Int) -> Bool {
        let first = keyBytes(a)
        let second = keyBytes(b)
        guard first.count == second.count else { return false }
        return first.count == 0 || jsonBytesEqual(first.baseAddress!, second.baseAddress!, count: first.count)
    }

    private func duplicate(_ entry: Int) -> JSONSyntaxError {
        let key = String(decoding: keyBytes(entry), as: UTF8.self)
        return failure("duplicate object key \"\(key)\"", at: Int(tape[entry].payload) - 1, exact: tape[entry].tag == .string)
    }

    // MARK: Errors

    private func found() -> String {
        position < end ? "'\(printable(input[position]))'" : "the end of the input"
    }

    private func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x\(hex(byte))"
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    private func hex16(_ value: UInt32) -> String {
        hex(UInt8(truncatingIfNeeded: value >> 8)) + hex(UInt8(truncatingIfNeeded: value))
    }

    /// An error at `offset` (the current position by default), with its line and column.
    /// `exact` false means the offset is not known precisely (an escaped key lives in the
    /// side buffer), and the current position is reported instead.
    private func failure(_ message: String, at offset: Int? = nil, exact: Bool = true) -> JSONSyntaxError {
        let at = min(exact ? (offset ?? position) : position, end)
        var line = 1
        var column = 1
        for index in 0..<at {
            if input[index] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if input[index] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONSyntaxError(message: message, line: line, column: column, position: at)
    }
}
