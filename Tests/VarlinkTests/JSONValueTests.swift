import Testing
import Varlink

@Suite("JSONValue")
struct JSONValueTests {
    @Test(
        "every kind parses, encodes compactly and reparses to the same value",
        arguments: [
            (" null ", JSONValue.null, "null"),
            ("true", .bool(true), "true"),
            ("false", .bool(false), "false"),
            ("0", .int(0), "0"),
            ("-42", .int(-42), "-42"),
            ("9223372036854775807", .int(.max), "9223372036854775807"),
            ("1.5", .float(1.5), "1.5"),
            ("1e2", .float(100), "100.0"),
            ("-2.5E-3", .float(-0.0025), "-0.0025"),
            (#""h\u00e9\n""#, .string("hé\n"), #""hé\n""#),
            (#""\u0000""#, .string("\u{0}"), #""\u0000""#),
            ("[ ]", .array([]), "[]"),
            (#"[1, "a", null, [true], {}]"#, .array([1, "a", nil, [true], [:]]), #"[1,"a",null,[true],{}]"#),
            ("{ }", .object([:]), "{}"),
            (#"{"b":{"d":[1.25]},"a":null}"#, .object(["a": nil, "b": ["d": [1.25]]]), #"{"a":null,"b":{"d":[1.25]}}"#),
        ]
    )
    func roundTrip(text: String, expected: JSONValue, canonical: String) throws {
        let value = try JSONValue(parsing: text)
        #expect(value == expected)
        #expect(value.jsonText == canonical)
        #expect(try JSONValue(parsing: value.jsonBytes()) == value)
    }

    @Test("an int and a float with the same value are different JSON values")
    func intVersusFloat() throws {
        #expect(try JSONValue(parsing: "1") == .int(1))
        #expect(try JSONValue(parsing: "1.0") == .float(1))
        #expect(JSONValue.int(1) != .float(1))
    }

    @Test("`any` rejects a top-level null; anyNode and nested values accept it")
    func anyAndNull() throws {
        let error = try #require(try decodingError(JSONValue.self, "null"))
        #expect(error.reason == .typeMismatch(expected: "any", found: "null"))

        let document = try JSONDocument(parsing: "null", anyTopLevel: true)
        let value = try withExtendedLifetime(document) { try JSONValue(anyNode: document.rootNode(mode: .strict)) }
        #expect(value == .null)

        #expect(try decode(JSONValue.self, "[null]") == [nil])
        #expect(try decode(JSONValue?.self, "null") == Optional<JSONValue>.none)
        // `[]any` elements are `any`: null is refused there.
        #expect(try decodingError([JSONValue].self, "[1,null]")?.description == "[1]: expected any, got null")
    }

    @Test("varlink `object` ([String: JSONValue]) reads members that are null, as the writer writes them")
    func objectWithNullMembers() throws {
        let object: [String: JSONValue] = ["a": .null, "b": [nil], "c": ["d": nil]]
        let text = try jsonText(object)
        #expect(try decode([String: JSONValue].self, text) == object)
        #expect(try decode([String: JSONValue].self, #"{"a":null}"#, mode: .lenient) == ["a": .null])
        // Other maps still refuse null values.
        #expect(try decodingError([String: String].self, #"{"a":null}"#)?.description == "a: expected string, got null")
    }

    @Test("object keys are written sorted, at every level")
    func sortedKeys() throws {
        let value: JSONValue = ["b": 1, "a": ["z": true, "B": false, "m": nil], "C": [], "": 0]
        #expect(value.jsonText == #"{"":0,"C":[],"a":{"B":false,"m":null,"z":true},"b":1}"#)
        // Order in the input does not matter.
        let reordered = try JSONValue(parsing: #"{"b":1,"C":[],"":0,"a":{"m":null,"z":true,"B":false}}"#)
        #expect(reordered.jsonText == value.jsonText)
    }

    @Test("parse errors are syntax errors")
    func parseErrors() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: "") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: #"{"a":1,"a":2}"#) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: "1 2") }
    }

    @Test("accessors")
    func accessors() {
        let value: JSONValue = ["name": "x", "n": 1]
        #expect(value["name"]?.stringValue == "x")
        #expect(value["n"]?.stringValue == nil)
        #expect(value["missing"] == nil)
        #expect(JSONValue.array(["x"])["name"] == nil)
    }

    @Test("a dictionary literal with a repeated key keeps the last value")
    func dictionaryLiteralDuplicates() {
        let value = JSONValue(dictionaryLiteral: ("a", 1), ("b", 0), ("a", 2))
        #expect(value == .object(["a": 2, "b": 0]))
    }
}
