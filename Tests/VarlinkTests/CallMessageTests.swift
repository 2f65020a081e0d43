import Testing
import Varlink

/// Parses a call the way a server does.
private func call(_ text: String) throws(VarlinkProtocolError) -> VarlinkIncomingCall {
    try VarlinkIncomingCall(parsing: utf8(text))
}

/// The protocol error for a call, or nil when it is accepted.
private func rejection(_ text: String) -> VarlinkProtocolError? {
    do {
        _ = try call(text)
        return nil
    } catch {
        return error
    }
}

@Suite("incoming calls (strict header)")
struct CallMessageTests {
    @Test(
        "absent, null and {} parameters mean the same",
        arguments: [
            #"{"method":"org.example.Ping"}"#, #"{"method":"org.example.Ping","parameters":null}"#,
            #"{"method":"org.example.Ping","parameters":{}}"#, #"{"parameters":{},"method":"org.example.Ping"}"#,
        ]
    )
    func emptyParameters(text: String) throws {
        let parsed = try call(text)
        #expect(parsed.method == "org.example.Ping")
        #expect(parsed.interface == "org.example")
        #expect(parsed.member == "Ping")
        #expect(parsed.flags == [])
        #expect(parsed.parameterValue == .object([:]))
        #expect(try parsed.decodeParameters(VarlinkEmpty.self) == VarlinkEmpty())
        // A method with a required field reports that field, whichever form was sent.
        let error = try #require(throws: VarlinkError.self) { try parsed.decodeParameters(Mount.self) }
        #expect(error == .invalidParameter("source"))
    }

    @Test(
        "flags: at most one true; explicit false is accepted",
        arguments: [
            (#""oneway":true"#, VarlinkCallFlags.oneway), (#""more":true"#, .more), (#""upgrade":true"#, .upgrade),
            (#""more":false"#, []), (#""oneway":false,"more":false,"upgrade":false"#, []),
            (#""oneway":false,"more":true"#, .more), (#""upgrade":true,"more":false,"oneway":false"#, .upgrade),
        ] as [(String, VarlinkCallFlags)]
    )
    func flags(members: String, expected: VarlinkCallFlags) throws {
        let parsed = try call(#"{"method":"a.b.C","#  + members + "}")
        #expect(parsed.flags == expected)
    }

    @Test(
        "vendor extension keys are ignored",
        arguments: [
            #"{"method":"a.B","org.example":{}}"#, #"{"org.example":{"x":[1]},"method":"a.B","parameters":{}}"#,
            #"{"method":"a.B","com.example.trace":{"id":"1"},"more":true}"#,
        ]
    )
    func vendorKeys(text: String) throws {
        #expect(try call(text).method == "a.B")
    }

    @Test(
        "malformed calls are protocol errors (the connection closes)",
        arguments: [
            "not json", "", "{", #"{"method":"a.B"} x"#, "[]", #"[{"method":"a.B"}]"#, #""a.B""#, "null", "1",
            "{}", #"{"parameters":{}}"#, #"{"method":null}"#, #"{"method":1}"#, #"{"method":["a.B"]}"#,
            #"{"method":"Ping"}"#, #"{"method":""}"#, #"{"method":".Ping"}"#, #"{"method":"org.example."}"#,
            #"{"method":"a.B","parameters":[]}"#, #"{"method":"a.B","parameters":"x"}"#,
            #"{"method":"a.B","parameters":1}"#, #"{"method":"a.B","parameters":false}"#,
            #"{"method":"a.B","oneway":true,"more":true}"#, #"{"method":"a.B","more":true,"upgrade":true}"#,
            #"{"method":"a.B","oneway":true,"upgrade":true}"#, #"{"method":"a.B","oneway":true,"more":true,"upgrade":true}"#,
            #"{"method":"a.B","more":"yes"}"#, #"{"method":"a.B","oneway":1}"#, #"{"method":"a.B","upgrade":{}}"#,
            #"{"method":"a.B","foo":1}"#, #"{"method":"a.B","X-Trace":"1"}"#, #"{"method":"a.B","Method":"a.B"}"#,
            #"{"method":"a.B","method":"a.B"}"#, #"{"method":"a.B","parameters":{},"parameters":{}}"#,
            #"{"method":"a.B","more":true,"more":true}"#, #"{"method":"a.B","parameters":{"x":1,"x":1}}"#,
        ]
    )
    func rejected(text: String) {
        #expect(rejection(text) != nil)
    }

    @Test("the rejection says why")
    func rejectionMessages() throws {
        #expect(try #require(rejection("[]")).message.contains("array"))
        #expect(try #require(rejection(#"{"parameters":{}}"#)).message.contains("method"))
        #expect(try #require(rejection(#"{"method":"a.B","oneway":true,"more":true}"#)).message.contains("more than one"))
        #expect(try #require(rejection(#"{"method":"a.B","foo":1}"#)).description.contains("foo"))
        #expect(try #require(rejection(#"{"method":"Ping"}"#)).message.contains("interface.Method"))
    }

    @Test("the method splits at its last dot")
    func methodSplit() throws {
        let parsed = try call(#"{"method":"org.varlink.service.GetInfo"}"#)
        #expect(parsed.interface == "org.varlink.service")
        #expect(parsed.member == "GetInfo")
    }

    @Test("whitespace around and inside the call is accepted (python's json.dumps style)")
    func whitespace() throws {
        let parsed = try call("\n {\"method\": \"a.b.C\", \"parameters\": {\"x\": 1}, \"more\": true} \n")
        #expect(parsed.flags == .more)
        #expect(parsed.parameterValue == ["x": 1])
    }

    @Test(
        "parameter mismatches become InvalidParameter naming the dotted path",
        arguments: [
            (#"{"create":{"name":"a","env":["x","y",3],"labels":{}}}"#, "create.env[2]"),
            (#"{"create":{"name":"a","env":[],"labels":{},"bogus":true}}"#, "create.bogus"),
            (#"{"create":{"env":[],"labels":{}}}"#, "create.name"),
            (#"{"create":{"name":"a","env":[],"labels":{}},"capabilities":{"A":{"x":1}}}"#, "capabilities.A"),
            (#"{"extra":1,"create":{"name":"a","env":[],"labels":{}}}"#, "extra"),
            (#"{}"#, "create"),
        ]
    )
    func invalidParameter(parameters: String, path: String) throws {
        let parsed = try call(#"{"method":"io.example.Create","parameters":"# + parameters + "}")
        let error = try #require(throws: VarlinkError.self) { try parsed.decodeParameters(CreateParameters.self) }
        #expect(error.name == "org.varlink.service.InvalidParameter")
        #expect(error.parameters == ["parameter": .string(path)])
    }

    @Test("a top-level mismatch in the parameters is reported as `parameters`")
    func invalidParameterWithoutPath() throws {
        let parsed = try call(#"{"method":"a.B","parameters":{"a":1}}"#)
        let error = try #require(throws: VarlinkError.self) { try parsed.decodeParameters([String].self) }
        #expect(error == .invalidParameter("parameters"))
    }

    @Test("valid parameters decode strictly")
    func validParameters() throws {
        let parsed = try call(
            #"{"method":"io.example.Create","parameters":{"create":{"name":"a","env":["E=1"],"labels":{"k":"v"}},"capabilities":{"A":{}}}}"#
        )
        let parameters = try parsed.decodeParameters(CreateParameters.self)
        #expect(parameters == CreateParameters(create: Create(name: "a", env: ["E=1"], labels: ["k": "v"]), capabilities: ["A"]))
        #expect(parsed.parameterValue["create"]?["name"] == "a")
    }

    @Test("a call parsed from a framed buffer slice keeps its parameters alive")
    func parametersOutliveTheBuffer() throws {
        var parsed: VarlinkIncomingCall?
        do {
            let framed = utf8(#"{"method":"a.B","parameters":{"text":"\u0000hello"}}"#) + [0]
            parsed = try VarlinkIncomingCall(parsing: framed.dropLast())
        }
        let value = try #require(parsed).parameterValue
        #expect(value["text"].flatMap(\.stringValue).map { Array($0.utf8) } == [0] + utf8("hello"))
    }
}
