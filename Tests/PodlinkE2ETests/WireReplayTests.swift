import Foundation
import PodlinkTestSupport
import PodmanClient
import Testing
import Varlink
import VarlinkNIO

/// podman-remote 1.9.3's own calls, as recorded against podman 1.9.3's service
/// (Tests/Fixtures/podman-remote-1.9.3.json, derived by scripts/wire-fixture), replayed
/// against podlinkd: every reply must have the fields podman's had, with the same JSON
/// types, down into the JSON documents some replies carry as strings.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct WireReplayTests {
    struct Call: Decodable {
        var method: String
        var parameters: JSONText?
        var more: Bool?
        var replyShape: JSONText?
    }

    struct RecordedFile: Decodable {
        var file: String
        var calls: [Call]
    }

    /// A JSON value kept as text, to be read as a JSONValue.
    struct JSONText: Decodable {
        var value: JSONValue
        init(from decoder: any Decoder) throws {
            value = try AnyJSONReader.read(decoder)
        }
    }

    /// Keys podman wrote that Podlink leaves out on purpose, by document; each with why.
    static let absentByDesign: [String: String] = [
        "CreateCommand": "podman's own command line; a varlink client has none to record",
        "ShmDir": "Podlink mounts /dev/shm as a tmpfs in the spec; there is no shared-memory directory",
        "exitCommand": "podman's per-container cleanup process; podlinkd's reaper does that",
        "labelopts": "SELinux labels: not enabled on these machines",
        "mounts": "only user mounts are listed; podman listed its own /dev/shm directory",
        "newExecSessions": "exec sessions come with exec",
        "seccomp": "Podlink applies no seccomp profile (documented in docs/io.podman.md)",
        "inheritable": "capabilities are bounding, effective and permitted, as the OCI runtime needs",
        "ambient": "capabilities are bounding, effective and permitted, as the OCI runtime needs",
        "oomScoreAdj": "written only when the container asks for one",
        "memory": "linux.resources.memory is written only when a memory setting is given",
        "/dev/shm": "/dev/shm is a tmpfs in the spec, not a bind mount of a host directory",
    ]

    @Test func podmanRemoteCallsGetRepliesOfPodmansShape() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Fixtures/podman-remote-1.9.3.json")
        let files = try JSONDecoder().decode([RecordedFile].self, from: Data(contentsOf: fixture))
        #expect(files.count == 13)
        try await Daemon.with { daemon, client in
            let connection = try await VarlinkConnection.connect(to: try VarlinkAddress(daemon.address))
            defer { Task { await connection.close() } }
            var ids: [String: String] = [:]
            var problems: [String] = []
            for file in files {
                if file.file == "rm-2" {
                    // e2 (`run -d ... sleep 3`) had exited by then in the recording.
                    _ = try await client.wait("e2")
                }
                if file.file == "top" {
                    // Made by a command the recordings start after: `run -d --name e1 ...`.
                    var options = PodmanClient.CreateOptions()
                    options.name = "e1"
                    options.network = "none"
                    ids["e1"] = try await client.create(
                        image: "localhost/busybox", command: ["sh", "-c", "echo line1; echo line2 >&2; sleep 1000"], options: options)
                    try await client.start("e1")
                    try await Task.sleep(for: .milliseconds(300))
                }
                for call in file.calls {
                    var text = String(decoding: try call.parameters?.value.jsonBytes() ?? Array("{}".utf8), as: UTF8.self)
                    for (name, id) in ids { text = text.replacingOccurrences(of: "{{id:\(name)}}", with: id) }
                    let parameters = try JSONValue(parsing: Array(text.utf8))
                    let where_ = "\(file.file): \(call.method)"
                    var reply: VarlinkReply
                    if call.more == true {
                        var last: VarlinkReply?
                        for try await item in connection.stream(method: call.method, parameters: parameters) {
                            if last == nil { last = item }
                            if !item.continues { break }
                        }
                        reply = try #require(last, "\(where_): no reply")
                    } else {
                        reply = try #require(try await connection.call(method: call.method, parameters: parameters, flags: []), "\(where_): no reply")
                    }
                    if let error = reply.error {
                        problems.append("\(where_): error \(error) \(reply.parameterValue)")
                        continue
                    }
                    let value = reply.parameterValue
                    if call.method == "io.podman.CreateContainer", case .object(let members) = value, case .string(let id)? = members["container"] {
                        let create = parameters.member("create")
                        let name: String = if case .string(let given)? = create?.member("name") { given } else { "run-rm" }
                        ids[name] = id
                    }
                    if let shape = call.replyShape?.value {
                        problems += Self.mismatches(shape, value, path: where_)
                    }
                }
            }
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
    }

    struct RecordedSession: Decodable {
        struct Frame: Decodable {
            var stream: UInt8
            var payload: String
        }

        var file: String
        var call: JSONText
        var sent: String
        var podmanFrames: [Frame]
    }

    /// podman-remote 1.9.3's upgraded sessions (exec, exec -i, run --rm), replayed byte
    /// for byte: the output podman sent comes back (stderr on its own stream, where podman
    /// merged it into stdout), and the exit code ends the session, which stays open until
    /// the client closes.
    @Test func podmanRemotesSessionsGetPodmansFrames() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Fixtures/podman-remote-1.9.3-sessions.json")
        let sessions = try JSONDecoder().decode([RecordedSession].self, from: Data(contentsOf: fixture))
        #expect(sessions.map(\.file) == ["exec", "exec-i", "run-rm"])
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.name = "e1"
            options.network = "none"
            _ = try await client.create(image: "localhost/busybox", command: ["sleep", "1000"], options: options)
            try await client.start("e1")
            for session in sessions {
                var text = String(decoding: try session.call.value.jsonBytes(), as: UTF8.self)
                if text.contains("{{created}}") {
                    // What the recording's CreateContainer made: `run --rm --network none localhost/busybox echo hi`.
                    var created = PodmanClient.CreateOptions()
                    created.network = "none"
                    created.removeWhenDone = true
                    let id = try await client.create(image: "localhost/busybox", command: ["echo", "hi"], options: created)
                    text = text.replacingOccurrences(of: "{{created}}", with: id)
                }
                let output = try await Tool.run(["python3", "-c", Self.rawSession, daemon.socket, text, session.sent])
                #expect(output.status == 0, "\(session.file): \(output)")
                let frames = output.stdout.split(separator: "\n").map { line in
                    let parts = line.split(separator: " ", maxSplits: 1)
                    return (stream: UInt8(parts[0])!, payload: parts.count > 1 ? String(parts[1]) : "")
                }
                let podmanOutput = session.podmanFrames.filter { $0.stream == 0 || $0.stream == 2 }.map(\.payload)
                let ours = frames.filter { $0.stream == 0 || $0.stream == 2 }
                for payload in podmanOutput {
                    #expect(ours.contains { $0.payload == payload }, "\(session.file): podman sent \(payload); we sent \(frames)")
                }
                let podmanExit = session.podmanFrames.last { $0.stream == 4 }?.payload
                // podman 1.9.3 answered `exec -i cat` with 125: it never closed cat's input
                // at the client's hang-up (its bug); cat ends and exits 0 here.
                let expectedExit = session.file == "exec-i" ? "00000000" : podmanExit
                #expect(frames.last?.stream == 4 && frames.last?.payload == expectedExit, "\(session.file): \(frames)")
                if session.file == "exec" {
                    #expect(frames.contains { $0.stream == 2 && $0.payload == "657865632d6572720a" }, "stderr on its own stream: \(frames)")
                }
            }
            #expect(try await client.containers().count == 1, "run --rm's container was removed by the daemon before the exit frame")
        }
    }

    /// A client as podman-remote: the call (upgrade), its reply, the raw bytes it sent, then
    /// every frame as "STREAM HEXPAYLOAD" until the exit frame; then it closes.
    static let rawSession = """
        import socket, sys
        path, call, sent = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
        s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(30)
        s.sendall(call.encode() + b"\\0")
        reply = b""
        while not reply.endswith(b"\\0"):
            chunk = s.recv(1)
            if not chunk: sys.exit("closed before the reply")
            reply += chunk
        if b'"error"' in reply: sys.exit("error reply: " + reply.decode())
        s.sendall(sent)
        data = b""
        def take(n):
            global data
            while len(data) < n:
                chunk = s.recv(65536)
                if not chunk: sys.exit("closed before the exit frame")
                data += chunk
            part, data = data[:n], data[n:]
            return part
        while True:
            header = take(8)
            payload = take(int.from_bytes(header[4:8], "big"))
            print(header[0], payload.hex())
            if header[0] == 4: break
        s.close()
        """

    /// Where `actual` does not have the shape podman's reply had. Go wrote nil slices and
    /// maps as null; either a null or a value of the type is fine where podman had one.
    static func mismatches(_ shape: JSONValue, _ actual: JSONValue, path: String) -> [String] {
        switch shape {
        case .null:
            return []
        case .string(let type):
            let matches =
                switch (type, actual) {
                case ("<string>", .string), ("<int>", .int), ("<float>", .float), ("<float>", .int), ("<bool>", .bool): true
                default: false
                }
            return matches ? [] : ["\(path): \(type) expected, found \(actual)"]
        case .array(let elements):
            if case .null = actual { return [] }
            guard case .array(let found) = actual else { return ["\(path): an array expected, found \(actual)"] }
            guard let element = elements.first, let first = found.first else { return [] }
            return mismatches(element, first, path: path + "[0]")
        case .object(let members):
            if let inner = members["<json>"] {
                guard case .string(let text) = actual, let document = try? JSONValue(parsing: Array(text.utf8)) else {
                    return ["\(path): a JSON document expected, found \(actual)"]
                }
                return mismatches(inner, document, path: path + " (JSON)")
            }
            if case .null = actual { return [] }
            guard case .object(let found) = actual else { return ["\(path): an object expected, found \(actual)"] }
            var problems: [String] = []
            for (key, memberShape) in members.sorted(by: { $0.key < $1.key }) {
                guard let member = found[key] else {
                    if absentByDesign[key] == nil { problems.append("\(path).\(key): missing") }
                    continue
                }
                problems += mismatches(memberShape, member, path: "\(path).\(key)")
            }
            return problems
        default:
            return ["\(path): the fixture has an unexpected shape \(shape)"]
        }
    }
}

extension JSONValue {
    func member(_ key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}

/// Reads any JSON into a JSONValue through Decodable (the fixture is read with JSONDecoder).
enum AnyJSONReader {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func read(_ decoder: any Decoder) throws -> JSONValue {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try read(object.superDecoder(forKey: key)) }
            return .object(members)
        }
        if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd { elements.append(try read(array.superDecoder())) }
            return .array(elements)
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { return .null }
        if let flag = try? single.decode(Bool.self) { return .bool(flag) }
        if let number = try? single.decode(Int.self) { return .int(number) }
        if let number = try? single.decode(Double.self) { return .float(number) }
        return .string(try single.decode(String.self))
    }
}
