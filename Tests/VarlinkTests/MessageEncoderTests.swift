import Testing
import Varlink

@Suite("message encoders")
struct MessageEncoderTests {
    private func callText(_ method: String, _ parameters: some VarlinkEncodable, _ flags: VarlinkCallFlags) throws -> [UInt8] {
        var writer = JSONWriter()
        try VarlinkCallEncoder.encode(method: method, parameters: parameters, flags: flags, into: &writer)
        return writer.bytes
    }

    @Test(
        "a call is {\"method\",\"parameters\"} plus only the true flags, then NUL",
        arguments: [
            (VarlinkCallFlags(), #"{"method":"org.example.Ping","parameters":{}}"#),
            (.oneway, #"{"method":"org.example.Ping","parameters":{},"oneway":true}"#),
            (.more, #"{"method":"org.example.Ping","parameters":{},"more":true}"#),
            (.upgrade, #"{"method":"org.example.Ping","parameters":{},"upgrade":true}"#),
        ]
    )
    func callShape(flags: VarlinkCallFlags, expected: String) throws {
        let bytes = try callText("org.example.Ping", VarlinkEmpty(), flags)
        #expect(bytes.last == 0)
        #expect(bytes.dropLast().contains(0) == false)
        #expect(String(decoding: bytes.dropLast(), as: UTF8.self) == expected)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("false"))
        // And a strict server reads back exactly what was sent.
        let parsed = try VarlinkIncomingCall(parsing: bytes.dropLast())
        #expect(parsed.flags == flags)
        #expect(parsed.method == "org.example.Ping")
    }

    @Test("several calls written into one writer frame as separate messages (pipelining)")
    func pipelinedCalls() throws {
        var writer = JSONWriter()
        try VarlinkCallEncoder.encode(method: "a.One", parameters: VarlinkEmpty(), flags: .oneway, into: &writer)
        try VarlinkCallEncoder.encode(method: "a.Two", parameters: NameReply(name: "n"), flags: [], into: &writer)
        try VarlinkCallEncoder.encode(method: "a.Three", parameters: VarlinkEmpty(), flags: .more, into: &writer)
        let frames = writer.bytes.split(separator: 0)
        #expect(frames.count == 3)
        let calls = try frames.map { frame throws(VarlinkProtocolError) in try VarlinkIncomingCall(parsing: frame) }
        #expect(calls.map(\.method) == ["a.One", "a.Two", "a.Three"])
        #expect(calls.map(\.flags) == [.oneway, [], .more])
    }

    @Test("call parameters are written as given, NUL inside strings escaped")
    func callParameters() throws {
        let bytes = try callText("a.B", NameReply(name: "x\u{0}y", count: 3), [])
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"method":"a.B","parameters":{"name":"x\u0000y","count":3}}"# + "\u{0}")
        #expect(bytes.firstIndex(of: 0) == bytes.count - 1)
    }

    @Test("a call whose parameters cannot be encoded throws")
    func callEncodingFails() {
        #expect(throws: JSONEncodingError.self) { _ = try callText("a.B", ["x": Double.nan], []) }
    }

    @Test("replies: continues only when true; errors carry name and parameters")
    func replyShapes() throws {
        var writer = JSONWriter()
        try VarlinkReplyEncoder.encode(parameters: NameReply(name: "a"), continues: true, into: &writer)
        try VarlinkReplyEncoder.encode(parameters: NameReply(name: "b"), continues: false, into: &writer)
        try VarlinkReplyEncoder.encode(errorName: "a.Failed", parameters: VarlinkError.invalidParameter("p"), into: &writer)
        let messages = writer.bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        #expect(messages == [
            #"{"parameters":{"name":"a"},"continues":true}"#,
            #"{"parameters":{"name":"b"}}"#,
            #"{"error":"a.Failed","parameters":{"parameter":"p"}}"#,
            "",
        ])
        let parsed = try messages.dropLast().map { text throws(VarlinkProtocolError) in try VarlinkReply(parsing: utf8(text)) }
        #expect(parsed.map(\.continues) == [true, false, false])
        #expect(parsed.map(\.error) == [nil, nil, "a.Failed"])
    }
}
