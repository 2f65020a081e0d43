import Testing
import Varlink

/// Varlink parses JSON with its own parser (a tape, for speed) and holds it to jansson's
/// verdicts: these are the inputs where two strict parsers most often part ways.
@Suite("the JSON parser agrees with jansson")
struct JanssonAgreementTests {
    @Test(
        "numbers",
        arguments: [
            "0", "-0", "7", "-7", "10", "0.5", "-0.0", "1e3", "1E3", "1e+3", "1e-3", "1.5e300", "0.1e1", "-1.25E-2",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
            "18446744073709551616", "123456789012345678901234567890", "123456789012345678901234567890.5",
            "1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "-1e309", "1e-400", "4.9e-324",
            "2.4703282292062328e-324", "2.4703282292062327e-324", "0.30000000000000004", "3.141592653589793238462643",
            "1.00000000000000011102230246251565404236316680908203125", "-", "--1", "+1", "01", "00", "-01", ".5", "1.",
            "1.e3", "1e", "1e+", "1e-", "0x10", "1_000", "NaN", "Infinity", "-Infinity", "1 2", "1,", "[1 2]", "[-]",
        ]
    )
    func numbers(text: String) {
        for anyTopLevel in [true, false] {
            for input in [text, "[\(text)]", #"{"n":\#(text)}"#] {
                #expect(disagreementWithJansson(utf8(input), anyTopLevel: anyTopLevel) == nil, "\(input)")
            }
        }
    }

    @Test(
        "strings and escapes",
        arguments: [
            #""""#, #""plain""#, #""\"\\\/\b\f\n\r\t""#, #""\u0000""#, #""a\u0000b""#, #""\u00e9\u20AC""#,
            #""\ud83d\ude00""#, #""\uD83D\uDE00x""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800\ud800""#,
            #""\ude00\ud83d""#, #""\u12""#, #""\u12G4""#, #""\x41""#, #""\'""#, #""\""#, #""abc"#, #""\"#,
            "\"tab\tinside\"", "\"nl\ninside\"", "\"del\u{7F}\"", "\"é日本😀\"", "\"\u{FEFF}\"", "\"\u{10FFFF}\"",
            #"{"a\u0000b":1}"#, #"{"\u0061":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"é":1,"\u00e9":2}"#,
            #"{"":1,"":2}"#, #"{"":1," ":2}"#, #"{"ab":1,"a":2,"b":3}"#,
        ]
    )
    func strings(text: String) {
        for anyTopLevel in [true, false] {
            for input in [text, "[\(text)]"] {
                #expect(disagreementWithJansson(utf8(input), anyTopLevel: anyTopLevel) == nil, "\(input)")
            }
        }
    }

    @Test(
        "UTF-8, valid and not",
        arguments: [
            [0x41], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
            [0xEF, 0xBF, 0xBF], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xFF], [0xC0, 0x80], [0xC1, 0xBF],
            [0xC2], [0xC2, 0x41], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80], [0xBF],
            [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xFE], [0xC3, 0xA9, 0x80],
        ] as [[UInt8]]
    )
    func utf8Sequences(bytes: [UInt8]) {
        // In a short string, a long one (the eight-byte fast path), a key and a bare token.
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 21)
        for input in [
            utf8(#"[""#) + bytes + utf8(#""]"#), utf8(#"[""#) + long + bytes + long + utf8(#""]"#),
            utf8(#"{""#) + bytes + utf8(#"":1}"#), utf8("[") + bytes + utf8("]"), utf8(#"[""#) + bytes + utf8(#"\n"]"#),
        ] {
            #expect(disagreementWithJansson(input, anyTopLevel: false) == nil, "\(input)")
        }
    }

    @Test("every byte, raw inside a string and after a backslash")
    func everyByte() {
        for byte in UInt8.min...UInt8.max {
            for input in [utf8(#"["a"#) + [byte] + utf8(#"b"]"#), utf8(#"["\"#) + [byte] + utf8(#""]"#), [byte]] {
                #expect(disagreementWithJansson(input, anyTopLevel: true) == nil, "byte \(byte) in \(input)")
            }
        }
    }

    @Test(
        "structure, literals and whitespace",
        arguments: [
            "{}", "[]", " {} ", "\t\n\r{}\r\n", "{ }", "[ ]", "{\"a\":1,}", "[1,]", "[,1]", "[,]", "{,}", "{\"a\"}",
            "{\"a\":}", "{\"a\" 1}", "{1:2}", "{a:1}", "[true,false,null]", "[tru]", "[nul]", "[falsey]", "[True]",
            "[null1]", "{}{}", "{} []", "[]]", "[[]", "{\"a\":[}", "[{]}", "\u{0}", "{}\u{0}", "[\u{0}]", "\u{0B}{}",
            "\u{0C}[]", "[\u{A0}1]", "[1\u{2028}]", "{\"a\":{\"b\":{\"c\":[1,[2,[3]]]}}}", "[\"a\",{\"b\":null}]",
            "{\"a\":1,\"b\":2,\"a\":3}", "[{\"k\":1},{\"k\":2}]", "{\"x\":{\"k\":null,\"k\":null}}", "",
        ]
    )
    func structure(text: String) {
        for anyTopLevel in [true, false] {
            #expect(disagreementWithJansson(utf8(text), anyTopLevel: anyTopLevel) == nil, "\(text.debugDescription)")
        }
    }

    @Test("nesting around the depth limit, scalars counted as a level", arguments: [1, 2, 100, 2047, 2048, 2049, 5000])
    func depth(levels: Int) {
        let scalarInArrays = [UInt8](repeating: UInt8(ascii: "["), count: levels) + utf8("1")
            + [UInt8](repeating: UInt8(ascii: "]"), count: levels)
        let scalarInObjects = Array(String(repeating: #"{"a":"#, count: levels).utf8) + utf8("true")
            + [UInt8](repeating: UInt8(ascii: "}"), count: levels)
        for input in [
            nestedArrays(levels), nestedObjects(levels), Array(nestedArrays(levels).prefix(levels)), scalarInArrays,
            scalarInObjects,
        ] {
            #expect(disagreementWithJansson(input, anyTopLevel: false) == nil, "depth \(levels)")
        }
    }

    @Test("large objects: duplicates found wherever they are", arguments: [17, 200, 5_000])
    func largeObjects(members: Int) {
        let keys = (0..<members).map { #""key\#($0)":\#($0)"# }
        let distinct = "{" + keys.joined(separator: ",") + "}"
        let duplicateLast = "{" + (keys + [#""key0":0"#]).joined(separator: ",") + "}"
        let duplicateMiddle = "{" + (keys + [#""key\#(members / 2)":1"#]).joined(separator: ",") + "}"
        let escapedDuplicate = "{" + (keys + [#""\u006bey1":1"#]).joined(separator: ",") + "}"
        for text in [distinct, duplicateLast, duplicateMiddle, escapedDuplicate] {
            #expect(disagreementWithJansson(utf8(text), anyTopLevel: false) == nil)
        }
        #expect(syntaxError(distinct) == nil)
        #expect(syntaxError(duplicateMiddle)?.message.contains("duplicate") == true)
    }

    /// Random documents of every kind, written compactly and with odd whitespace.
    @Test("2,000 random documents read the same", arguments: [11, 12] as [UInt64])
    func randomDocuments(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<1_000 {
            let value = randomValue(depth: 0, using: &random)
            let compact = try value.jsonBytes()
            let spaced = compact.flatMap { byte -> [UInt8] in
                [UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "{")].contains(byte)
                    ? [byte, UInt8(ascii: " "), UInt8(ascii: "\n")] : [byte]
            }
            for input in [compact, spaced] {
                #expect(disagreementWithJansson(input, anyTopLevel: true) == nil, "\(String(decoding: input, as: UTF8.self))")
            }
        }
    }

    private func randomValue(depth: Int, using random: inout SeededGenerator) -> JSONValue {
        let kinds = depth > 4 ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(Int.random(in: Int.min...Int.max, using: &random) >> Int.random(in: 0...63, using: &random))
        case 3:
            let bits = UInt64.random(in: 0...UInt64.max, using: &random)
            let value = Double(bitPattern: bits)
            return .float(value.isFinite ? value : Double(Int32.random(in: .min ... .max, using: &random)) / 7)
        case 4: return .string(randomString(using: &random))
        case 5:
            return .array((0..<Int.random(in: 0...6, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                members[randomString(using: &random)] = randomValue(depth: depth + 1, using: &random)
            }
            return .object(members)
        }
    }

    private func randomString(using random: inout SeededGenerator) -> String {
        let pieces = ["a", "key", "\"", "\\", "\n", "\u{1}", "é", "日本", "😀", "\u{7F}", "/", " ", "\u{2028}", "x"]
        return (0..<Int.random(in: 0...12, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }
}

@Suite("where the JSON parser is stricter than jansson")
struct JanssonLeniencyTests {
    @Test("a raw NUL after a number or literal is not skipped", arguments: ["[1\u{0}]", "[true\u{0}]", #"{"a":null\#u{0},"b":1}"#])
    func nulAfterToken(text: String) {
        #expect(syntaxError(text) != nil)
    }
}
