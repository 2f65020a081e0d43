/// Finds the bytes of a JSON string that need attention, eight at a time. Shared by the
/// parser, which must also look at every non-ASCII byte (to check its UTF-8), and the
/// writer, which passes those through (a Swift String is valid UTF-8).
@usableFromInline
enum JSONByteScan {
    /// The index of the first byte in `start..<end` that is a quote, a backslash or a
    /// control character (or, with `stoppingAtNonASCII`, 0x80 or more); `end` if none.
    @inlinable @inline(__always)
    static func firstSpecial(_ bytes: UnsafePointer<UInt8>, from start: Int, end: Int, stoppingAtNonASCII: Bool) -> Int {
        var index = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while end - index >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A byte is flagged when it is zero after the XOR (a quote or backslash), below
            // 0x20, or (when asked) has its high bit set. Only the lowest flag is exact,
            // which is all we use.
            var flags = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            if stoppingAtNonASCII { flags |= word }
            let special = flags & highs
            if special != 0 { return index + special.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || (stoppingAtNonASCII && byte >= 0x80) {
                return index
            }
            index += 1
        }
        return end
    }
}
