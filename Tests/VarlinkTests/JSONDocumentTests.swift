import Testing
import Varlink

@Suite("JSONDocument syntax")
struct JSONDocumentTests {
    @Test(
        "duplicate keys are rejected at any depth",
        arguments: [#"{"a":1,"a":2}"#, #"{"a":1,"a":1}"#, #"{"x":{"k":null,"k":null}}"#, #"[{"m":1,"n":2,"m":3}]"#]
    )
    func duplicateKeys(text: String) throws {
        let error = try #require(syntaxError(text))
        #expect(error.message.contains("duplicate"))
    }

    @Test("keys that only look alike are not duplicates", arguments: [#"{"a":1,"A":2}"#, #"{"a":{"a":1}}"#, #"[{"a":1},{"a":2}]"#, #"{"é":1,"e":2}"#])
    func distinctKeys(text: String) {
        #expect(syntaxError(text) == nil)
    }

    // 2048 is jansson 2.14's JSON_PARSER_MAX_DEPTH, which the parser keeps.
    @Test("nesting up to 2048 levels parses and converts", arguments: [2000, 2048])
    func deepButAllowed(depth: Int) throws {
        for bytes in [nestedArrays(depth), nestedObjects(depth)] {
            let document = try JSONDocument(parsing: bytes)
            let value = try document.decode(JSONValue.self, mode: .strict)
            // The whole tree converts, down to the innermost empty container.
            var level = 0
            var current: JSONValue? = value
            while let node = current {
                level += 1
                switch node {
                case .array(let elements): current = elements.first
                case .object(let members): current = members["a"]
                default: current = nil
                }
            }
            #expect(level == depth)
        }
    }

    @Test("nesting beyond the limit is rejected without a crash", arguments: [2049, 100_000])
    func tooDeep(depth: Int) throws {
        let arrays = try #require(syntaxError(nestedArrays(depth)))
        #expect(arrays.message.contains("depth"))
        #expect(syntaxError(nestedObjects(depth)) != nil)
        // Unterminated deep input as well.
        #expect(syntaxError([UInt8](repeating: UInt8(ascii: "["), count: depth)) != nil)
    }

    @Test("empty and blank input is rejected", arguments: ["", " ", "\n\t\r ", "\u{0}"])
    func emptyInput(text: String) {
        #expect(syntaxError(text) != nil)
        #expect(syntaxError(text, anyTopLevel: true) != nil)
    }

    @Test("an empty buffer pointer is rejected")
    func emptyRawBuffer() {
        #expect(throws: JSONSyntaxError.self) {
            _ = try JSONDocument(parsing: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    @Test("JSON whitespace around and inside values is accepted")
    func whitespace() throws {
        let document = try JSONDocument(parsing: " \n\t\r{ \"a\" :\n[ 1 ,\t2 ]\r\n, \"b\": { } }\n \t")
        #expect(try document.decode([String: JSONValue].self, mode: .strict) == ["a": [1, 2], "b": [:]])
    }

    @Test(
        "anything after the value is rejected",
        arguments: ["{} x", "{}{}", "{}]", "{},", "[]1", "{} // c", "{}\u{0}", "{}\u{0}{}", "[] null"]
    )
    func trailingGarbage(text: String) {
        #expect(syntaxError(text) != nil)
        #expect(syntaxError(text, anyTopLevel: true) != nil)
    }

    @Test(
        "not JSON: comments, single quotes, trailing commas, bare words, odd numbers",
        arguments: [
            "{'a':1}", #"{"a":1,}"#, "[1,]", "[,1]", "{a:1}", "/*c*/{}", "[01]", "[+1]", "[.5]", "[1.]", "[0x10]",
            "[1e]", "[-]", "[True]", "[undefined]", #"{"a" 1}"#, #"{"a":}"#, #"{1:2}"#, "[", "{", #"{"a":1"#,
        ]
    )
    func notJSON(text: String) {
        #expect(syntaxError(text, anyTopLevel: true) != nil)
    }

    @Test("scalars at the top level need anyTopLevel", arguments: ["1", "1.5", #""s""#, "true", "null"])
    func topLevelScalars(text: String) {
        #expect(syntaxError(text) != nil)
        #expect(syntaxError(text, anyTopLevel: true) == nil)
    }

    @Test("parsing from slices and non-contiguous collections gives the same document")
    func collectionInputs() throws {
        let framed = utf8(#"{"a":[1,2]}"#) + [0]
        let fromSlice = try JSONDocument(parsing: framed.dropLast())
        let fromSequence = try JSONDocument(parsing: framed.dropLast().reversed().reversed())
        let fromString = try JSONDocument(parsing: #"{"a":[1,2]}"#)
        for document in [fromSlice, fromSequence, fromString] {
            #expect(try document.decode(JSONValue.self, mode: .strict) == ["a": [1, 2]])
        }
    }

    @Test("a syntax error says where it is")
    func errorLocation() throws {
        let error = try #require(syntaxError("{\n  \"a\": tru\n}"))
        #expect(error.line == 2)
        #expect(error.description.hasPrefix("invalid JSON at line 2, column "))
        #expect(!error.message.isEmpty)
    }
}
