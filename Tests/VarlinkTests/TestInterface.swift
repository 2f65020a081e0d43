import Synchronization
import Varlink

// A hand-written interface, shaped like generated code, for the dispatcher tests.

/// Remembers which handlers ran (oneway calls leave no other trace).
final class CallRecorder: Sendable {
    private let names = Mutex<[String]>([])

    func record(_ name: String) { names.withLock { $0.append(name) } }
    var recorded: [String] { names.withLock { $0 } }
}

struct TextMessage: VarlinkCodable, Equatable {
    var text: String

    init(text: String) { self.text = text }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        text = try fields.required("text")
        try fields.finish(knownKeys: ["text"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("text")
        writer.string(text)
        writer.endObject()
    }

    static var varlinkTypeName: String { "(text: string)" }
}

struct CountParameters: VarlinkCodable, Equatable {
    var n: Int
    var failAt: Int?

    init(n: Int, failAt: Int? = nil) {
        self.n = n
        self.failAt = failAt
    }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        n = try fields.required("n")
        failAt = try fields.optional("failAt")
        try fields.finish(knownKeys: ["n", "failAt"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("n")
        writer.int(n)
        if let failAt {
            writer.key("failAt")
            writer.int(failAt)
        }
        writer.endObject()
    }

    static var varlinkTypeName: String { "(n: int, failAt: ?int)" }
}

struct CountReply: VarlinkCodable, Equatable {
    var i: Int

    init(i: Int) { self.i = i }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        i = try fields.required("i")
        try fields.finish(knownKeys: ["i"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("i")
        writer.int(i)
        writer.endObject()
    }

    static var varlinkTypeName: String { "(i: int)" }
}

/// `error Failed (reason: string)`
struct TestFailed: VarlinkTypedError, Equatable {
    static var errorName: String { "org.example.test.Failed" }
    var reason: String

    init(reason: String) { self.reason = reason }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        reason = try fields.required("reason")
        try fields.finish(knownKeys: ["reason"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("reason")
        writer.string(reason)
        writer.endObject()
    }

    static var varlinkTypeName: String { "Failed" }
}

struct PlainSwiftError: Error, CustomStringConvertible {
    var description: String { "the disk is on fire" }
}

enum TestInterface: VarlinkInterfaceDefinition {
    static let interfaceName = "org.example.test"
    static let interfaceDescription = """
        interface org.example.test

        method Echo(text: string) -> (text: string)

        method Count(n: int, failAt: ?int) -> (i: int)

        method Fail() -> ()

        method FailTyped() -> ()

        method Crash() -> ()

        method Touch(text: string) -> ()

        error Failed (reason: string)

        """

    static func typedError(for reply: VarlinkReply) -> (any Error)? {
        guard reply.error == TestFailed.errorName else { return nil }
        return try? reply.decode(TestFailed.self)
    }

    enum Echo: VarlinkInterfaceMethod {
        typealias Interface = TestInterface
        typealias Parameters = TextMessage
        typealias Reply = TextMessage
        static var qualifiedName: String { "org.example.test.Echo" }
    }

    enum Count: VarlinkInterfaceMethod {
        typealias Interface = TestInterface
        typealias Parameters = CountParameters
        typealias Reply = CountReply
        static var qualifiedName: String { "org.example.test.Count" }
    }

    enum Fail: VarlinkInterfaceMethod {
        typealias Interface = TestInterface
        typealias Parameters = VarlinkEmpty
        typealias Reply = VarlinkEmpty
        static var qualifiedName: String { "org.example.test.Fail" }
    }

    enum FailTyped: VarlinkInterfaceMethod {
        typealias Interface = TestInterface
        typealias Parameters = VarlinkEmpty
        typealias Reply = VarlinkEmpty
        static var qualifiedName: String { "org.example.test.FailTyped" }
    }

    enum Crash: VarlinkInterfaceMethod {
        typealias Interface = TestInterface
        typealias Parameters = VarlinkEmpty
        typealias Reply = VarlinkEmpty
        static var qualifiedName: String { "org.example.test.Crash" }
    }

    enum Touch: VarlinkInterfaceMethod {
        typealias Interface = TestInterface
        typealias Parameters = TextMessage
        typealias Reply = VarlinkEmpty
        static var qualifiedName: String { "org.example.test.Touch" }
    }

    static func served(recorder: CallRecorder) -> VarlinkInterface {
        VarlinkInterface(
            name: interfaceName,
            description: interfaceDescription,
            methods: [
                "Echo": { call, sink in
                    try await VarlinkInterface.serve(Echo.self, call, sink) { parameters, _ in parameters }
                },
                "Count": { call, sink in
                    try await VarlinkInterface.serve(Count.self, call, sink) { parameters, call in
                        recorder.record("Count")
                        for i in 0..<parameters.n {
                            if i == parameters.failAt {
                                throw VarlinkError(name: "org.example.test.Failed", parameters: ["reason": .string("at \(i)")])
                            }
                            try await call.sendContinues(CountReply(i: i))
                        }
                        return CountReply(i: parameters.n)
                    }
                },
                "Fail": { call, sink in
                    try await VarlinkInterface.serve(Fail.self, call, sink) { _, _ in
                        recorder.record("Fail")
                        throw VarlinkError(name: "org.example.test.Failed", parameters: ["reason": "asked to"])
                    }
                },
                "FailTyped": { call, sink in
                    try await VarlinkInterface.serve(FailTyped.self, call, sink) { _, _ in
                        recorder.record("FailTyped")
                        throw TestFailed(reason: "typed")
                    }
                },
                "Crash": { call, sink in
                    try await VarlinkInterface.serve(Crash.self, call, sink) { _, _ in
                        recorder.record("Crash")
                        throw PlainSwiftError()
                    }
                },
                "Touch": { call, sink in
                    try await VarlinkInterface.serve(Touch.self, call, sink) { parameters, _ in
                        recorder.record("Touch:\(parameters.text)")
                        return VarlinkEmpty()
                    }
                },
            ]
        )
    }
}

/// A second interface with no methods, to check GetInfo's order and routing.
let otherInterface = VarlinkInterface(
    name: "org.example.other",
    description: "interface org.example.other\n\nmethod Nothing() -> ()\n",
    methods: [:]
)

let testServiceInfo = VarlinkServiceInfo(vendor: "Podlink", product: "tests", version: "0.1", url: "https://example.invalid")
