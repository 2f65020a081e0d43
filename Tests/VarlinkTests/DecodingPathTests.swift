import Testing
import Varlink

@Suite("decoding errors name the path")
struct DecodingPathTests {
    @Test("a complete value decodes and survives the writer")
    func roundTrip() throws {
        let value = CreateParameters(
            create: Create(
                name: "web", env: ["A=1", "B=2"], labels: ["team": "core", "tier": "1"],
                mounts: [Mount(source: "/srv", readOnly: true), Mount(source: "/tmp")], note: "n\u{0}te",
                annotations: [:]
            ),
            capabilities: ["CHOWN", "NET_ADMIN"]
        )
        let text = try jsonText(value)
        #expect(try decode(CreateParameters.self, text) == value)
        #expect(try decode(CreateParameters.self, text, mode: .lenient) == value)
    }

    @Test(
        "type mismatches carry the dotted path",
        arguments: [
            (#"{"create":{"name":"a","env":["x","y",3],"labels":{}}}"#, "create.env[2]: expected string, got int"),
            (#"{"create":{"name":"a","env":"x","labels":{}}}"#, "create.env: expected array, got string"),
            (#"{"create":{"name":"a","env":[],"labels":{"team":1}}}"#, "create.labels.team: expected string, got int"),
            (#"{"create":{"name":"a","env":[],"labels":{"t":null}}}"#, "create.labels.t: expected string, got null"),
            (#"{"create":{"name":"a","env":[],"labels":[]}}"#, "create.labels: expected object, got array"),
            (
                #"{"create":{"name":"a","env":[],"labels":{},"mounts":[{"source":"/"},{"source":"/x","readOnly":"yes"}]}}"#,
                "create.mounts[1].readOnly: expected bool, got string"
            ),
            (#"{"create":{"name":false,"env":[],"labels":{}}}"#, "create.name: expected string, got bool"),
            (#"{"create":[]}"#, "create: expected object, got array"),
            (#"[]"#, "expected object, got array"),
            (#"{"create":{"name":"a","env":[],"labels":{}},"capabilities":[]}"#, "capabilities: expected object, got array"),
        ]
    )
    func mismatchPath(text: String, expected: String) throws {
        let strict = try #require(try decodingError(CreateParameters.self, text))
        #expect(strict.description == expected)
        // Lenient mode forgives unknown fields, never wrong types.
        let lenient = try #require(try decodingError(CreateParameters.self, text, mode: .lenient))
        #expect(lenient == strict)
    }

    @Test("the path components are kept structurally")
    func pathComponents() throws {
        let error = try #require(
            try decodingError(CreateParameters.self, #"{"create":{"name":"a","env":["x","y",3],"labels":{}}}"#)
        )
        #expect(error.path == [.key("create"), .key("env"), .index(2)])
        #expect(error.dottedPath == "create.env[2]")
        #expect(error.reason == .typeMismatch(expected: "string", found: "int"))
    }

    @Test(
        "missing or null required fields name the field and its varlink type",
        arguments: [
            (#"{"env":[],"labels":{}}"#, "name: missing required field of type string"),
            (#"{"name":null,"env":[],"labels":{}}"#, "name: missing required field of type string"),
            (#"{"name":"a","labels":{}}"#, "env: missing required field of type []string"),
            (#"{"name":"a","env":[]}"#, "labels: missing required field of type [string]string"),
            (#"{"name":"a","env":[],"labels":{},"mounts":[{}]}"#, "mounts[0].source: missing required field of type string"),
        ]
    )
    func missingField(text: String, expected: String) throws {
        let error = try #require(try decodingError(Create.self, text))
        #expect(error.description == expected)
    }

    @Test(
        "strict mode rejects unknown fields at any depth; lenient mode ignores them",
        arguments: [
            (#"{"create":{"name":"a","env":[],"labels":{},"bogus":1}}"#, "create.bogus: unknown field"),
            (#"{"create":{"name":"a","env":[],"labels":{}},"extra":null}"#, "extra: unknown field"),
            (#"{"create":{"name":"a","env":[],"labels":{},"mounts":[{"source":"/","rw":true}]}}"#, "create.mounts[0].rw: unknown field"),
        ]
    )
    func unknownField(text: String, expected: String) throws {
        let error = try #require(try decodingError(CreateParameters.self, text))
        #expect(error.description == expected)
        #expect(error.reason == .unknownField)
        let lenient = try decode(CreateParameters.self, text, mode: .lenient)
        #expect(lenient.create.name == "a")
    }

    @Test("optional fields: absent and null are the same; [] and {} are values")
    func optionalFields() throws {
        let absent = try decode(Create.self, #"{"name":"a","env":[],"labels":{}}"#)
        let null = try decode(Create.self, #"{"name":"a","env":[],"labels":{},"mounts":null,"note":null,"annotations":null}"#)
        #expect(absent == null)
        #expect(absent.mounts == nil && absent.note == nil && absent.annotations == nil)

        let empty = try decode(Create.self, #"{"name":"a","env":[],"labels":{},"mounts":[],"note":"","annotations":{}}"#)
        #expect(empty.mounts == [])
        #expect(empty.note == "")
        #expect(empty.annotations == [:])
        #expect(empty != absent)
        // Unset optionals are left out when writing, not written as null.
        #expect(try jsonText(absent) == #"{"name":"a","env":[],"labels":{}}"#)
    }

    @Test("nullable elements inside containers")
    func nullableElements() throws {
        #expect(try decode([String?].self, #"["a",null,"b"]"#) == ["a", nil, "b"])
        #expect(try decode([String: Int?].self, #"{"x":null,"y":1}"#) == ["x": nil, "y": 1])
        #expect(try jsonText([String?]([nil, "a"])) == #"[null,"a"]"#)
        let error = try #require(try decodingError([String].self, #"["a",null]"#))
        #expect(error.description == "[1]: expected string, got null")
    }

    @Test("varlink type names", arguments: [
        (Int.varlinkTypeName, "int"), (Double.varlinkTypeName, "float"), (Bool.varlinkTypeName, "bool"),
        (String.varlinkTypeName, "string"), ([String].varlinkTypeName, "[]string"),
        ([String: [Int]].varlinkTypeName, "[string][]int"), (Set<String>.varlinkTypeName, "[string]()"),
        (String?.varlinkTypeName, "?string"), ([String?].varlinkTypeName, "[]?string"),
        (VarlinkEmpty.varlinkTypeName, "()"), (JSONValue.varlinkTypeName, "any"),
        ([String: JSONValue].varlinkTypeName, "[string]any"),
    ])
    func typeNames(actual: String, expected: String) {
        #expect(actual == expected)
    }

    @Test("dotted paths for every shape of path")
    func dottedPaths() {
        #expect(JSONDecodingError(.unknownField, path: []).description == "unknown field")
        #expect(JSONDecodingError(.unknownField, path: [.index(0), .key("a")]).dottedPath == "[0].a")
        #expect(JSONDecodingError(.unknownField, path: [.key("a"), .index(1), .index(2)]).dottedPath == "a[1][2]")
        #expect(JSONDecodingError(.unknownField).within(.key("b")).within(.key("a")).dottedPath == "a.b")
        let enumError = JSONDecodingError(.unknownEnumValue("c", allowed: ["a", "b"]), path: [.key("mode")])
        #expect(enumError.description == #"mode: unknown value "c", expected one of a, b"#)
    }
}

@Suite("[string]() sets and the empty struct")
struct SetAndEmptyTests {
    @Test("a set reads from {\"key\":{}} and writes sorted")
    func setRoundTrip() throws {
        let set: Set<String> = ["b", "a", "c\"q"]
        let text = try jsonText(set)
        #expect(text == #"{"a":{},"b":{},"c\"q":{}}"#)
        #expect(try decode(Set<String>.self, text) == set)
        #expect(try decode(Set<String>.self, "{}").isEmpty)
    }

    @Test("strict mode requires {} values; lenient mode accepts any object")
    func setValuesStrict() throws {
        let text = #"{"a":{},"b":{"x":1}}"#
        let error = try #require(try decodingError(Set<String>.self, text))
        #expect(error.description == "b: expected (), got object with 1 fields")
        #expect(try decode(Set<String>.self, text, mode: .lenient) == ["a", "b"])
    }

    @Test(
        "a set's values must be objects in both modes",
        arguments: [(#"{"a":true}"#, "a: expected object, got bool"), (#"{"a":null}"#, "a: expected object, got null"), (#"["a"]"#, "expected object, got array")]
    )
    func setValuesNotObjects(text: String, expected: String) throws {
        #expect(try decodingError(Set<String>.self, text)?.description == expected)
        #expect(try decodingError(Set<String>.self, text, mode: .lenient)?.description == expected)
    }

    @Test("the empty struct accepts null and {}; strict mode rejects members")
    func emptyStruct() throws {
        #expect(try decode(VarlinkEmpty.self, "null") == VarlinkEmpty())
        #expect(try decode(VarlinkEmpty.self, "{}") == VarlinkEmpty())
        #expect(try decodingError(VarlinkEmpty.self, #"{"a":1}"#)?.description == "a: unknown field")
        #expect(try decode(VarlinkEmpty.self, #"{"a":1}"#, mode: .lenient) == VarlinkEmpty())
        #expect(try decodingError(VarlinkEmpty.self, "[]")?.description == "expected object, got array")
        #expect(try jsonText(VarlinkEmpty()) == "{}")
    }
}
