import Testing
import Varlink

private func reply(_ text: String) throws(VarlinkProtocolError) -> VarlinkReply {
    try VarlinkReply(parsing: utf8(text))
}

@Suite("replies (lenient)")
struct ReplyMessageTests {
    @Test(
        "unknown keys are ignored, at the top and inside the parameters",
        arguments: [
            #"{"parameters":{"name":"x"},"upgraded":false}"#,
            #"{"upgraded":true,"parameters":{"name":"x","future":[1,{}]}}"#,
            #"{"parameters":{"name":"x"},"org.example":{},"foo":1,"X-Bar":null}"#,
        ]
    )
    func unknownKeys(text: String) throws {
        let parsed = try reply(text)
        #expect(!parsed.continues)
        #expect(parsed.error == nil)
        #expect(try parsed.decode(NameReply.self) == NameReply(name: "x"))
    }

    @Test(
        "continues: true keeps the stream open; false, null or absent end it",
        arguments: [
            (#"{"parameters":{},"continues":true}"#, true), (#"{"continues":true}"#, true),
            (#"{"parameters":{},"continues":false}"#, false), (#"{"parameters":{},"continues":null}"#, false),
            (#"{"parameters":{}}"#, false), ("{}", false),
        ]
    )
    func continuesFlag(text: String, expected: Bool) throws {
        #expect(try reply(text).continues == expected)
    }

    @Test(
        "an error always ends the call, even with continues: true",
        arguments: [
            #"{"error":"org.example.Failed","continues":true}"#,
            #"{"continues":true,"parameters":{"why":"x"},"error":"org.example.Failed"}"#,
        ]
    )
    func errorEnds(text: String) throws {
        let parsed = try reply(text)
        #expect(parsed.error == "org.example.Failed")
        #expect(!parsed.continues)
    }

    @Test(
        "absent, null and {} parameters are alike",
        arguments: [#"{}"#, #"{"parameters":null}"#, #"{"parameters":{}}"#, #"{"error":"a.B"}"#, #"{"error":"a.B","parameters":null}"#]
    )
    func emptyParameters(text: String) throws {
        let parsed = try reply(text)
        #expect(parsed.parameterValue == .object([:]))
        #expect(try parsed.decode(VarlinkEmpty.self) == VarlinkEmpty())
        #expect(try parsed.decode([String: Int].self) == [:])
        let missing = try #require(throws: JSONDecodingError.self) { try parsed.decode(NameReply.self) }
        #expect(missing.description == "name: missing required field of type string")
        #expect(parsed.withParameters { (try? $0.memberCount()) ?? -1 } == 0)
    }

    @Test("key order does not matter: parameters may come before error")
    func keyOrder() throws {
        let parsed = try reply(#"{"parameters":{"interface":"org.nope"},"error":"org.varlink.service.InterfaceNotFound"}"#)
        #expect(parsed.error == "org.varlink.service.InterfaceNotFound")
        #expect(parsed.parameterValue == ["interface": "org.nope"])
        #expect(VarlinkClient.genericError(from: parsed) == .interfaceNotFound("org.nope"))
    }

    @Test("`error` is ?string: an explicit null is no error")
    func nullError() throws {
        let parsed = try reply(#"{"error":null,"parameters":{"name":"x"}}"#)
        #expect(parsed.error == nil)
        #expect(try parsed.decode(NameReply.self) == NameReply(name: "x"))
    }

    @Test(
        "replies that are not replies are protocol errors",
        arguments: [
            "", "nope", "[]", "null", #""x""#, #"{"parameters":[]}"#, #"{"parameters":"x"}"#, #"{"parameters":1}"#,
            #"{"continues":"yes"}"#, #"{"continues":1}"#, #"{"error":1}"#, #"{"error":{}}"#,
            #"{"parameters":{},"parameters":{}}"#, #"{"error":"a.B","error":"a.C"}"#, #"{"parameters":{}} {}"#,
        ]
    )
    func rejected(text: String) {
        #expect(throws: VarlinkProtocolError.self) { try reply(text) }
    }

    @Test("parameters decode leniently: unknown fields ignored, wrong types still fail")
    func lenientDecoding() throws {
        let extra = try reply(#"{"parameters":{"name":"x","count":2,"new":true}}"#)
        #expect(try extra.decode(NameReply.self) == NameReply(name: "x", count: 2))
        let wrong = try reply(#"{"parameters":{"name":"x","count":"2"}}"#)
        let error = try #require(throws: JSONDecodingError.self) { try wrong.decode(NameReply.self) }
        #expect(error.description == "count: expected int, got string")
    }

    @Test("python-style whitespace is accepted")
    func whitespace() throws {
        let parsed = try reply("{\"parameters\": {\"name\": \"x\"}, \"continues\": false}\n")
        #expect(try parsed.decode(NameReply.self).name == "x")
    }
}
