import Testing
import Varlink

@Suite("varlink int")
struct IntCodecTests {
    @Test(
        "writes and reads back the whole Int64 range",
        arguments: [Int.min, Int.min + 1, -1_000_000, -10, -9, -1, 0, 1, 9, 10, 99, 100, 1_234_567_890, Int.max]
    )
    func roundTrip(value: Int) throws {
        let text = try jsonText(value)
        #expect(text == String(value))
        #expect(try decode(Int.self, text) == value)
    }

    @Test("reads the Int64 limits written as literals")
    func limitsAsLiterals() throws {
        #expect(try decode(Int.self, "9223372036854775807") == Int.max)
        #expect(try decode(Int.self, "-9223372036854775808") == Int.min)
        #expect(try decode(Int.self, "-0") == 0)
    }

    @Test(
        "rejects anything that is not an integer literal",
        arguments: [
            ("1.5", "float"), ("1.0", "float"), ("1e3", "float"), ("1E3", "float"), ("-0.0", "float"),
            (#""1""#, "string"), ("null", "null"), ("true", "bool"), ("[1]", "array"), (#"{"a":1}"#, "object"),
        ]
    )
    func rejectsNonIntegers(text: String, found: String) throws {
        let error = try #require(try decodingError(Int.self, text))
        #expect(error.reason == .typeMismatch(expected: "int", found: found))
        #expect(error.description == "expected int, got \(found)")
    }

    @Test(
        "integers beyond Int64 are a JSONSyntaxError (limitation: uint64 values above Int64.max cannot be read)",
        arguments: ["18446744073709551615", "9223372036854775808", "-9223372036854775809", "[1,18446744073709551615]"]
    )
    func beyondInt64IsSyntaxError(text: String) throws {
        let error = try #require(syntaxError(text, anyTopLevel: true))
        #expect(error.message.contains("too big"))
    }
}

@Suite("varlink float")
struct FloatCodecTests {
    @Test(
        "accepts integer and real literals",
        arguments: [
            ("1", 1.0), ("0", 0.0), ("-7", -7.0), ("1.5", 1.5), ("1e-300", 1e-300), ("2E+10", 2e10),
            ("3.141592653589793", 3.141592653589793), ("-2.5e-3", -0.0025),
            ("9223372036854775807", 9_223_372_036_854_775_807.0),
        ]
    )
    func accepts(text: String, expected: Double) throws {
        #expect(try decode(Double.self, text) == expected)
    }

    @Test("-0 is an integer literal, so it reads as +0 (as in jansson); -0.0 keeps its sign")
    func negativeZero() throws {
        let fromInteger = try decode(Double.self, "-0")
        #expect(fromInteger == 0 && fromInteger.sign == .plus)
        let fromReal = try decode(Double.self, "-0.0")
        #expect(fromReal == 0 && fromReal.sign == .minus)
        #expect(try jsonText(-0.0) == "-0.0")
    }

    @Test("pi is written as 3.141592653589793 and reads back exactly")
    func piRoundTrip() throws {
        let text = try jsonText(Double.pi)
        #expect(text == "3.141592653589793")
        #expect(try decode(Double.self, text) == Double.pi)
    }

    @Test(
        "every finite double survives the writer and the parser unchanged",
        arguments: [
            0.1, 1.0, 100.0, 1e21, 1e-7, -1e-300, 123_456_789.123, Double.leastNonzeroMagnitude,
            Double.leastNormalMagnitude, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
            Double(Int.max), -Double.leastNonzeroMagnitude, 0.30000000000000004,
        ]
    )
    func writerRoundTrip(value: Double) throws {
        let text = try jsonText(value)
        let back = try decode(Double.self, text)
        #expect(back == value, "\(value) was written as \(text)")
        // Real-valued: a float must not come back as an int node (it still reads as float).
        #expect(try decode(JSONValue.self, text) == .float(value))
    }

    @Test("a real literal too large for a double is a syntax error")
    func overflowIsRejected() {
        #expect(syntaxError("[1e400]") != nil)
        #expect(syntaxError("[-1e400]") != nil)
    }

    @Test("rejects non-numbers", arguments: [(#""1.5""#, "string"), ("null", "null"), ("false", "bool"), ("[]", "array")])
    func rejectsNonNumbers(text: String, found: String) throws {
        let error = try #require(try decodingError(Double.self, text))
        #expect(error.reason == .typeMismatch(expected: "float", found: found))
    }

    @Test("NaN and infinities throw and leave no bytes behind", arguments: [Double.nan, .infinity, -.infinity, .signalingNaN])
    func nonFiniteThrows(value: Double) {
        var writer = JSONWriter()
        writer.beginArray()
        writer.int(1)
        #expect(throws: JSONEncodingError.self) { try writer.double(value) }
        writer.int(2)
        writer.endArray()
        // No stray comma, no "nan" or "inf": the failed value left no trace.
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "[1,2]")
    }

    @Test("containers holding a non-finite float fail to encode")
    func nonFiniteInContainers() {
        #expect(throws: JSONEncodingError.nonFiniteFloat(.infinity)) { try [1.0, .infinity].jsonBytes() }
        #expect(throws: JSONEncodingError.self) { try ["x": Double.nan].jsonBytes() }
        #expect(throws: JSONEncodingError.self) { try JSONValue.array([.float(-.infinity)]).jsonBytes() }
        // jsonText is non-throwing and documents that such a value becomes null.
        #expect(JSONValue.float(.nan).jsonText == "null")
    }

    @Test("JSON has no NaN or Infinity literals", arguments: ["[NaN]", "[Infinity]", "[-Infinity]", "[nan]"])
    func noNonFiniteLiterals(text: String) {
        #expect(syntaxError(text) != nil)
    }
}

@Suite("varlink bool")
struct BoolCodecTests {
    @Test func roundTrip() throws {
        #expect(try jsonText(true) == "true")
        #expect(try jsonText(false) == "false")
        #expect(try decode(Bool.self, "true"))
        #expect(try !decode(Bool.self, "false"))
    }

    @Test("rejects look-alikes", arguments: [("1", "int"), ("0", "int"), (#""true""#, "string"), ("null", "null")])
    func rejects(text: String, found: String) throws {
        let error = try #require(try decodingError(Bool.self, text))
        #expect(error.reason == .typeMismatch(expected: "bool", found: found))
    }
}
