import Testing
import Varlink

/// Valid calls, replies and documents that the mutations start from.
private let seedMessages: [String] = [
    #"{"method":"org.example.test.Echo","parameters":{"text":"hi"}}"#,
    #"{"method":"io.example.Create","parameters":{"create":{"name":"web","env":["A=1","B=\u00e9"],"labels":{"k":"v"},"mounts":[{"source":"/srv","readOnly":true}]},"capabilities":{"CHOWN":{}}},"more":true}"#,
    #"{"method":"org.varlink.service.GetInfo","oneway":false,"org.example":{"trace":[1,2.5,null]}}"#,
    #"{"method": "org.varlink.certification.Test03", "parameters": {"int": -9223372036854775808, "float": 3.141592653589793}, "more": false}"#,
    #"{"parameters":{"name":"x","count":2},"continues":true}"#,
    #"{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"create.env[2]"}}"#,
    #"{"continues":false,"upgraded":false,"parameters":null}"#,
    #"[1,-0,1e-300,"\ud83d\ude00","a\u0000b",true,false,null,{"":{}},[[[]]]]"#,
    #"{"deep":[[[[[[{"a":[{"b":"\\\"\n\t\/"}]}]]]]]],"é":"日本語😀","n":9223372036854775807}"#,
    #"{"parameters":{"name":"\u0000","count":-1,"extra":{"x":[null,{"y":null}]}},"error":null}"#,
]

/// Bytes that are most likely to change the structure of JSON.
private let interestingBytes: [UInt8] = [
    UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "\""),
    UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: ":"), 0x00, 0xFF, 0xC3, 0xED,
]

private func mutate(_ input: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
    var bytes = input
    for _ in 0..<Int.random(in: 1...3, using: &random) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0 where !bytes.isEmpty:  // flip a bit
            bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1 where !bytes.isEmpty:  // overwrite with any byte
            bytes[position] = UInt8.random(in: 0...255, using: &random)
        case 2 where !bytes.isEmpty:  // delete a byte
            bytes.remove(at: position)
        case 3:  // insert a structural byte
            bytes.insert(interestingBytes.randomElement(using: &random)!, at: position)
        case 4:  // truncate
            bytes.removeSubrange(position...)
        case 5 where !bytes.isEmpty:  // duplicate a range somewhere else
            let end = Int.random(in: position...min(bytes.count, position + 16), using: &random)
            let slice = bytes[position..<end]
            bytes.insert(contentsOf: slice, at: Int.random(in: 0...bytes.count, using: &random))
        case 6 where !bytes.isEmpty:  // delete a range
            bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &random)))
        default:  // swap two bytes
            guard bytes.count > 1 else { break }
            bytes.swapAt(position, Int.random(in: 0..<bytes.count, using: &random))
        }
    }
    return bytes
}

/// Decoding parameters either succeeds or throws InvalidParameter naming a parameter.
private func decodeProblem<P: VarlinkDecodable>(_ call: VarlinkIncomingCall, _ type: P.Type) -> String? {
    do {
        _ = try call.decodeParameters(P.self)
        return nil
    } catch {
        guard error.name == "org.varlink.service.InvalidParameter", error.parameters["parameter"]?.stringValue != nil else {
            return "decodeParameters(\(P.self)) threw \(error)"
        }
        return nil
    }
}

private struct Tally {
    var parsed = 0
    var rejected = 0
}

/// Feeds one input to every parser and checks what each accepted. Returns the problems found.
private func check(
    _ input: [UInt8],
    documents: inout Tally,
    calls: inout Tally,
    replies: inout Tally
) -> [String] {
    var problems: [String] = []

    // JSONDocument: a value that converts to JSONValue and survives a write and a reparse.
    for anyTopLevel in [false, true] {
        do {
            let document = try JSONDocument(parsing: input, anyTopLevel: anyTopLevel)
            documents.parsed += 1
            let value = try withExtendedLifetime(document) { try JSONValue(anyNode: document.rootNode(mode: .strict)) }
            if !anyTopLevel, case .object = value {} else if !anyTopLevel, case .array = value {} else if !anyTopLevel {
                problems.append("a message-level document parsed to a scalar")
            }
            let reparsed = try JSONValue(parsing: value.jsonBytes())
            if reparsed != value { problems.append("JSONValue round trip changed \(value) into \(reparsed)") }
        } catch let error as JSONSyntaxError {
            documents.rejected += 1
            if error.message.isEmpty { problems.append("a syntax error without a message") }
        } catch {
            problems.append("JSONDocument: unexpected \(type(of: error)): \(error)")
        }
    }

    // jansson, the reference: the same verdict and the same value.
    for anyTopLevel in [false, true] {
        if let disagreement = disagreementWithJansson(input, anyTopLevel: anyTopLevel) {
            problems.append("the parser \(disagreement) (anyTopLevel: \(anyTopLevel))")
        }
    }

    // VarlinkIncomingCall: an accepted call has a well-formed header and object parameters.
    do {
        let call = try VarlinkIncomingCall(parsing: input)
        calls.parsed += 1
        if call.interface.isEmpty || call.member.isEmpty || "\(call.interface).\(call.member)" != call.method {
            problems.append("bad method split of \(call.method)")
        }
        if call.flags.rawValue.nonzeroBitCount > 1 { problems.append("several flags accepted: \(call.flags)") }
        guard case .object(let parameters) = call.parameterValue else {
            problems.append("parameters not an object")
            return problems
        }
        if try call.decodeParameters([String: JSONValue].self) != parameters {
            problems.append("`object` decoding differs from parameterValue")
        }
        for problem in [
            decodeProblem(call, VarlinkEmpty.self), decodeProblem(call, CreateParameters.self),
            decodeProblem(call, TextMessage.self),
        ] {
            if let problem { problems.append(problem) }
        }
    } catch let error as VarlinkProtocolError {
        calls.rejected += 1
        if error.message.isEmpty { problems.append("a protocol error without a message") }
    } catch {
        problems.append("VarlinkIncomingCall: unexpected \(type(of: error)): \(error)")
    }

    // VarlinkReply: an error never continues; parameters are always an object.
    do {
        let reply = try VarlinkReply(parsing: input)
        replies.parsed += 1
        if reply.error != nil && reply.continues { problems.append("an error reply that continues") }
        guard case .object(let parameters) = reply.parameterValue else {
            problems.append("reply parameters not an object")
            return problems
        }
        if try reply.decode([String: JSONValue].self) != parameters {
            problems.append("reply `object` decoding differs from parameterValue")
        }
        _ = try? reply.decode(NameReply.self)
        _ = try? reply.decode(CreateParameters.self)
    } catch let error as VarlinkProtocolError {
        replies.rejected += 1
        if error.message.isEmpty { problems.append("a protocol error without a message") }
    } catch {
        problems.append("VarlinkReply: unexpected \(type(of: error)): \(error)")
    }
    return problems
}

@Suite("mutated messages")
struct MutationTests {
    @Test("every seed message is valid for the parsers it is meant for")
    func seedsAreValid() throws {
        for text in seedMessages {
            _ = try JSONDocument(parsing: text)
        }
        #expect(throws: Never.self) { try VarlinkIncomingCall(parsing: utf8(seedMessages[1])) }
        #expect(throws: Never.self) { try VarlinkReply(parsing: utf8(seedMessages[9])) }
    }

    /// 4 × 5,000 = 20,000 mutated inputs, each fed to JSONDocument, VarlinkIncomingCall
    /// and VarlinkReply. Deterministic: a failure replays with the same seed.
    @Test("20,000 seeded mutations never crash, fail only with the documented errors and read as jansson reads them", arguments: [1, 2, 3, 4] as [UInt64])
    func mutations(seed: UInt64) async {
        var random = SeededGenerator(seed: seed)
        var documents = Tally()
        var calls = Tally()
        var replies = Tally()
        var problems: [String] = []
        for index in 0..<5_000 {
            // Yield now and then: other suites run real servers on the same two threads.
            if index % 100 == 0 { await Task.yield() }
            let original = Array(seedMessages[index % seedMessages.count].utf8)
            let input = mutate(original, using: &random)
            for problem in check(input, documents: &documents, calls: &calls, replies: &replies) where problems.count < 10 {
                problems.append("\(problem) for input \(String(decoding: input, as: UTF8.self).debugDescription)")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        // The mutations must exercise both outcomes of every parser to mean anything.
        #expect(documents.parsed > 100 && documents.rejected > 100, "documents: \(documents)")
        #expect(calls.parsed > 100 && calls.rejected > 100, "calls: \(calls)")
        #expect(replies.parsed > 100 && replies.rejected > 100, "replies: \(replies)")
    }
}
