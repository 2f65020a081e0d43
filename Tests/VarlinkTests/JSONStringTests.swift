import Testing
import Varlink

@Suite("varlink string")
struct StringCodecTests {
    @Test(
        "the writer escapes quotes, backslashes and control characters",
        arguments: [
            ("plain", #""plain""#),
            (#"a"b"#, #""a\"b""#),
            (#"a\b"#, #""a\\b""#),
            ("line\nbreak", #""line\nbreak""#),
            ("cr\rtab\t", #""cr\rtab\t""#),
            ("\u{0}", #""\u0000""#),
            ("\u{1}\u{8}\u{C}\u{1B}\u{1F}", #""\u0001\u0008\u000c\u001b\u001f""#),
            ("\u{7F}", "\"\u{7F}\""),
            ("/", #""/""#),
            ("é😀", "\"é😀\""),
            ("\u{2028}", "\"\u{2028}\""),
            ("", #""""#),
        ]
    )
    func escapes(value: String, expected: String) throws {
        #expect(try jsonText(value) == expected)
    }

    /// The writer looks at eight bytes at a time: every ASCII byte, at every position of
    /// a 19-byte string (two whole words and a tail), beside plain and non-ASCII
    /// neighbours, must come out as a byte-by-byte escaper writes it.
    @Test("the writer escapes every byte at every position of the word scan")
    func escapesAtEveryPosition() throws {
        func reference(_ value: String) -> String {
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        for filler in ["abcdefghijklmnopqrs", "é日本語😀abcdefghij"] {
            let base = Array(filler.unicodeScalars)
            for byte in 0..<0x80 {
                for position in 0..<base.count {
                    var scalars = base
                    scalars[position] = UnicodeScalar(UInt8(byte))
                    var value = ""
                    value.unicodeScalars.append(contentsOf: scalars)
                    #expect(try jsonText(value) == reference(value), "byte 0x\(String(byte, radix: 16)) at \(position) in \(filler)")
                }
            }
        }
    }

    @Test(
        "every written string reads back unchanged",
        arguments: [
            "", "plain", #"a"b\c"#, "\u{0}", "a\u{0}b\u{0}", "\n\r\t\u{8}\u{C}", String(UnicodeScalar(0x1F)!),
            "é", "日本語", "😀👍🏽", "\u{10FFFF}", "\u{FEFF}bom", String(repeating: "x\"", count: 1000),
        ]
    )
    func roundTrip(value: String) throws {
        let text = try jsonText(value)
        #expect(try decode(String.self, text) == value)
        // Byte for byte, not just canonically equivalent.
        #expect(Array(try decode(String.self, text).utf8) == Array(value.utf8))
    }

    @Test("\\u0000 inside a string is kept, with the bytes after it")
    func nulInsideString() throws {
        let value = try decode(String.self, #""a\u0000b""#)
        #expect(Array(value.utf8) == [0x61, 0x00, 0x62])
        let inObject = try decode([String: String].self, #"{"k":"\u0000\u0000"}"#)
        #expect(inObject["k"].map { Array($0.utf8) } == [0, 0])
    }

    @Test(
        "escape sequences decode",
        arguments: [
            (#""\ud83d\ude00""#, "😀"), (#""\uD83D\uDE00""#, "😀"), (#""\u00e9""#, "é"), (#""\/""#, "/"),
            (#""\b\f\n\r\t\"\\""#, "\u{8}\u{C}\n\r\t\"\\"), (#""\u0041\u20ac""#, "A€"),
        ]
    )
    func escapeSequences(text: String, expected: String) throws {
        #expect(try decode(String.self, text) == expected)
    }

    @Test(
        "lone surrogate escapes are rejected as invalid Unicode, without crashing",
        arguments: [#""\ud800""#, #""\udc00""#, #""x\ud800y""#, #""\ud800\u0041""#, #""\ude00\ud83d""#]
    )
    func loneSurrogate(text: String) throws {
        let error = try #require(syntaxError(text, anyTopLevel: true))
        #expect(error.message.contains("invalid Unicode"))
    }

    @Test(
        "invalid UTF-8 input is rejected",
        arguments: [
            [0xFF], [0xC0, 0x80], [0xC1, 0xBF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xF0, 0x82, 0x82, 0xAC], [0xFE], [0x61, 0xC3],
        ] as [[UInt8]]
    )
    func invalidUTF8(bad: [UInt8]) {
        // Inside a string value, inside a key, and as a bare token.
        #expect(syntaxError(utf8(#"{"k":""#) + bad + utf8(#""}"#)) != nil)
        #expect(syntaxError(utf8(#"{""#) + bad + utf8(#"":1}"#)) != nil)
        #expect(syntaxError(utf8("[") + bad + utf8("]")) != nil)
    }

    @Test("valid multi-byte UTF-8 input is accepted")
    func validUTF8() throws {
        let bytes: [UInt8] = utf8(#"[""#) + [0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80] + utf8(#""]"#)
        let document = try JSONDocument(parsing: bytes)
        #expect(try document.decode([String].self, mode: .strict) == ["é€😀"])
    }

    @Test(
        "raw control characters inside a string are rejected",
        arguments: [0x00, 0x01, 0x0A, 0x0D, 0x09, 0x1F] as [UInt8]
    )
    func rawControlCharacter(byte: UInt8) {
        #expect(syntaxError(utf8(#"["a"#) + [byte] + utf8(#"b"]"#)) != nil)
    }

    @Test("a \\u0000 in an object key is rejected (as in jansson, whose keys cannot hold NUL)")
    func nulInKey() {
        #expect(syntaxError(#"{"a\u0000b":1}"#) != nil)
    }

    @Test("malformed escapes are rejected", arguments: [#"["\x"]"#, #"["\u12"]"#, #"["\uZZZZ"]"#, #"["\"]"#, #"["\'"]"#])
    func malformedEscapes(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test("dictionary keys are escaped by the writer and read back")
    func dictionaryKeys() throws {
        let value: [String: Int] = ["a\"b": 1, "line\n": 2, "back\\slash": 3, "é": 4, "": 5]
        let text = try jsonText(value)
        #expect(text.contains(#""a\"b":1"#))
        #expect(text.contains(#""line\n":2"#))
        #expect(try decode([String: Int].self, text) == value)
    }
}
