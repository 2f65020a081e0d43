/// Byte-level character classes of the IDL, shared by the lexer and by source-line lookup
/// so that both agree on what ends a line.
///
/// The lexer works on UTF-8 bytes because every token of the language is ASCII; non-ASCII
/// text can only appear inside comments, as Unicode whitespace, or as an error.
enum SourceCharacters {
    /// The length in bytes of the line break at `index` (`\n`, `\r\n`, `\r`, U+2028, U+2029,
    /// the PEG's `eol_r`), or 0 if there is none.
    static func lineBreakLength(_ bytes: [UInt8], at index: Int) -> Int {
        guard index < bytes.count else { return 0 }
        switch bytes[index] {
        case 0x0A:
            return 1
        case 0x0D:
            return index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
        case 0xE2:
            // U+2028 is E2 80 A8, U+2029 is E2 80 A9.
            if index + 2 < bytes.count, bytes[index + 1] == 0x80, bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 {
                return 3
            }
            return 0
        default:
            return 0
        }
    }

    /// The length in bytes of a non-ASCII whitespace character at `index` (the PEG's
    /// `whitespace` set beyond space and tab), or 0.
    static func unicodeWhitespaceLength(_ bytes: [UInt8], at index: Int) -> Int {
        guard let (scalar, length) = decodeScalar(bytes, at: index) else { return 0 }
        switch scalar {
        case 0x00A0, 0xFEFF, 0x1680, 0x180E, 0x2000...0x200A, 0x202F, 0x205F, 0x3000:
            return length
        default:
            return 0
        }
    }

    /// The Unicode scalar starting at `index` and its length in bytes.
    ///
    /// The bytes come from a `String`, so they are valid UTF-8; every access is still
    /// bounds-checked so that a broken assumption yields `nil`, never a trap.
    static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (value: UInt32, length: Int)? {
        guard index < bytes.count else { return nil }
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return (UInt32(lead), 1)
        case 0xC0...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF7: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return (value, length)
    }

    /// The length of the scalar at `index`, at least 1 so that callers always make progress.
    static func scalarLength(_ bytes: [UInt8], at index: Int) -> Int {
        decodeScalar(bytes, at: index)?.length ?? 1
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    static func isUppercase(_ byte: UInt8) -> Bool {
        byte >= 0x41 && byte <= 0x5A
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte)
    }

    /// Characters a word token is made of; `-` and `.` may also appear between them.
    static func isWordCharacter(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "_")
    }
}
