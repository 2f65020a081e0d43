/// The kinds of token in an interface file.
enum TokenKind: Equatable, Sendable {
    /// Letters, digits and `_`, with `-` and `.` allowed between them: keywords, names,
    /// field names and interface names. The parser decides which rule a word must obey.
    case word
    case leftParen
    case rightParen
    case comma
    case colon
    case question
    /// `[]`
    case arrayPrefix
    /// `[string]`
    case dictionaryPrefix
    /// `->`
    case arrow
    /// A character that starts no token; the parser reports it.
    case unexpected
    case endOfInput
}

struct Token {
    var kind: TokenKind
    /// The exact source text.
    var text: String
    var location: SourceLocation
    /// A line break (or the start of the file) comes before this token: the PEG's `eol`
    /// between members. Always true for `endOfInput`.
    var startsLine: Bool
    /// The full-line `#` block directly above this token, if it is the first on its line.
    var doc: [String]

    func isWord(_ word: String) -> Bool {
        kind == .word && text == word
    }

    /// How the token reads in a message: `'foo'`, `end of input`, `character U+0000`.
    var quoted: String {
        switch kind {
        case .endOfInput:
            return "end of input"
        case .unexpected:
            if let scalar = text.unicodeScalars.first, scalar.value > 0x20, scalar.value < 0x7F {
                return "'\(text)'"
            }
            let value = text.unicodeScalars.first?.value ?? 0
            let hex = String(value, radix: 16, uppercase: true)
            return "character U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        default:
            // Words can be arbitrarily long in garbage input; keep messages readable.
            return text.count > 40 ? "'\(text.prefix(40))…'" : "'\(text)'"
        }
    }
}

/// Turns UTF-8 bytes into tokens on demand, tracking lines, columns and doc comments.
///
/// Doc comments are decided here because only the lexer sees the layout: a doc is a block
/// of full-line `#` comments with no blank line between it and the token that starts the
/// next line. A trailing comment (after a token on the same line) never becomes a doc,
/// and a doc block is consumed by whatever token follows it, so comments inside a struct
/// cannot leak to the next member.
struct Lexer {
    let bytes: [UInt8]
    private var offset = 0

    private var line = 1
    private var lineStart = 0
    /// The last column computed on the current line, so columns cost linear time overall.
    private var columnCache: (offset: Int, column: Int) = (0, 1)

    private var pendingDoc: [String] = []
    /// A token or a comment is on the current line: a line without either is blank.
    private var lineHasContent = false
    private var tokenOnLine = false
    private var lineBreakSeen = true
    /// Where the last token ended: the location reported for `endOfInput`.
    private var previousEnd = SourceLocation(line: 1, column: 1)

    init(_ source: String) {
        bytes = Array(source.utf8)
    }

    mutating func next() -> Token {
        skipTrivia()
        let startsLine = lineBreakSeen
        lineBreakSeen = false
        let doc = tokenOnLine ? [] : pendingDoc
        pendingDoc = []

        guard offset < bytes.count else {
            return Token(kind: .endOfInput, text: "", location: previousEnd, startsLine: true, doc: [])
        }

        let start = offset
        let location = SourceLocation(line: line, column: column(at: start))
        let kind = scanToken()
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        tokenOnLine = true
        lineHasContent = true
        previousEnd = SourceLocation(line: line, column: column(at: offset))
        return Token(kind: kind, text: text, location: location, startsLine: startsLine, doc: doc)
    }

    /// Consumes one token starting at `offset` and says what it was.
    private mutating func scanToken() -> TokenKind {
        let byte = bytes[offset]
        switch byte {
        case UInt8(ascii: "("): offset += 1; return .leftParen
        case UInt8(ascii: ")"): offset += 1; return .rightParen
        case UInt8(ascii: ","): offset += 1; return .comma
        case UInt8(ascii: ":"): offset += 1; return .colon
        case UInt8(ascii: "?"): offset += 1; return .question
        case UInt8(ascii: "["):
            if matches("[]") { offset += 2; return .arrayPrefix }
            if matches("[string]") { offset += 8; return .dictionaryPrefix }
            offset += 1
            return .unexpected
        case UInt8(ascii: "-"):
            if matches("->") { offset += 2; return .arrow }
            offset += 1
            return .unexpected
        default:
            if SourceCharacters.isWordCharacter(byte) {
                scanWord()
                return .word
            }
            offset += SourceCharacters.scalarLength(bytes, at: offset)
            return .unexpected
        }
    }

    /// `[A-Za-z0-9_]+` runs joined by `-` or `.` runs, so that `org.example-x.y` is one word
    /// but `Foo->` stops before the arrow.
    private mutating func scanWord() {
        while true {
            while offset < bytes.count, SourceCharacters.isWordCharacter(bytes[offset]) {
                offset += 1
            }
            var joiner = offset
            while joiner < bytes.count, bytes[joiner] == UInt8(ascii: "-") || bytes[joiner] == UInt8(ascii: ".") {
                joiner += 1
            }
            guard joiner > offset, joiner < bytes.count, SourceCharacters.isWordCharacter(bytes[joiner]) else { return }
            offset = joiner
        }
    }

    private func matches(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { expected in
            for index in 0..<count where bytes[offset + index] != expected[index] {
                return false
            }
            return true
        }
    }

    /// Skips whitespace, line breaks and comments, collecting doc comment lines.
    private mutating func skipTrivia() {
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                offset += 1
                continue
            }
            let breakLength = SourceCharacters.lineBreakLength(bytes, at: offset)
            if breakLength > 0 {
                // A blank line separates a comment block from what follows: not a doc.
                if !lineHasContent { pendingDoc.removeAll() }
                offset += breakLength
                startLine()
                continue
            }
            if byte == UInt8(ascii: "#") {
                let text = scanComment()
                if !tokenOnLine { pendingDoc.append(text) }
                lineHasContent = true
                continue
            }
            if byte >= 0x80 {
                let whitespaceLength = SourceCharacters.unicodeWhitespaceLength(bytes, at: offset)
                if whitespaceLength > 0 {
                    offset += whitespaceLength
                    continue
                }
            }
            return
        }
    }

    /// Consumes a comment up to (not including) the line break; returns its text without
    /// the `#` and one following space.
    private mutating func scanComment() -> String {
        offset += 1
        var start = offset
        if start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
        while offset < bytes.count, SourceCharacters.lineBreakLength(bytes, at: offset) == 0 {
            offset += 1
        }
        return start < offset ? String(decoding: bytes[start..<offset], as: UTF8.self) : ""
    }

    private mutating func startLine() {
        line += 1
        lineStart = offset
        columnCache = (offset, 1)
        tokenOnLine = false
        lineHasContent = false
        lineBreakSeen = true
    }

    /// The 1-based character column of `target` on the current line.
    ///
    /// Counts `Character`s, so a multi-byte or combined character is one column. Each call
    /// continues from the previous one, so a line is scanned once however many tokens it has.
    private mutating func column(at target: Int) -> Int {
        var (from, column) = columnCache
        if target < from { (from, column) = (lineStart, 1) }
        let segment = bytes[from..<target]
        if segment.allSatisfy({ $0 < 0x80 }) {
            column += segment.count
        } else {
            column += String(decoding: segment, as: UTF8.self).count
        }
        columnCache = (target, column)
        return column
    }
}
