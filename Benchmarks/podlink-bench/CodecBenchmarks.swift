import Foundation
import JanssonOracle
import PodlinkInterfaces
import Varlink

/// Decoding and encoding an io.podman ListContainers reply of 20 containers: generated
/// code over Varlink's codec, against Foundation's JSONDecoder/JSONEncoder on Codable
/// structs of the same shape.
enum CodecBenchmarks {
    static func run(_ harness: inout Harness) throws {
        print("Codec: ListContainers reply with 20 containers")
        let reply = IoPodman.Methods.ListContainers.Reply(containers: (0..<20).map(sampleContainer))
        var writer = JSONWriter()
        try VarlinkReplyEncoder.encode(parameters: reply, continues: false, into: &writer)
        let message = Array(writer.bytes.dropLast())
        let messageData = Data(message)
        print("  message size: \(message.count) bytes")

        let viaFoundation = try crossCheck(message: message, expected: reply)

        let decodeGenerated = try harness.measure("decode, generated code + Varlink's parser") {
            let decoded = try VarlinkReply(parsing: message).decode(IoPodman.Methods.ListContainers.Reply.self)
            precondition(decoded.containers.count == 20)
        }
        harness.measure("  of which: parse only") {
            let document = try? JSONDocument(parsing: message)
            precondition(document != nil)
        }
        // The parser the codec was first built on, reading the same bytes into its tree.
        harness.measure("  for comparison: jansson's parse alone") {
            let parsed = message.withUnsafeBytes { JanssonOracle.parses($0) }
            precondition(parsed)
        }
        let decoder = JSONDecoder()
        let decodeFoundation = try harness.measure("decode, Foundation JSONDecoder + Codable") {
            let decoded = try decoder.decode(FoundationReplyMessage.self, from: messageData)
            precondition(decoded.parameters.containers.count == 20)
        }
        harness.ratio(decodeGenerated, over: decodeFoundation, goal: 2)

        // The decoding modes on the same parameters: strict (a server's default), and
        // goCompatible (io.podman's: absent fields zero, unknown ones ignored).
        var parametersWriter = JSONWriter()
        try reply.encode(to: &parametersWriter)
        let parameters = parametersWriter.bytes
        let strict = try harness.measure("decode the 20 containers as parameters, strict") {
            let decoded = try JSONDocument(parsing: parameters).decode(IoPodman.Methods.ListContainers.Reply.self, mode: .strict)
            precondition(decoded.containers.count == 20)
        }
        let goCompatible = try harness.measure("decode the 20 containers as parameters, goCompatible") {
            let decoded = try JSONDocument(parsing: parameters).decode(IoPodman.Methods.ListContainers.Reply.self, mode: .goCompatible)
            precondition(decoded.containers.count == 20)
        }
        let cost = goCompatible.median / strict.median
        print(String(format: "  ratio: goCompatible decoding takes %.3fx strict (goal: at most 1.05x: %@)", cost, cost <= 1.05 ? "met" : "NOT met"))
        // What zero-filling costs where it happens: python-podman's WaitContainer{name}.
        let sparse = Array(#"{"name":"0123456789ab"}"#.utf8)
        harness.measure("decode WaitContainer{name} (interval absent), goCompatible") {
            let decoded = try? JSONDocument(parsing: sparse).decode(IoPodman.Methods.WaitContainer.Parameters.self, mode: .goCompatible)
            precondition(decoded?.interval == 0)
        }

        let foundationValue = viaFoundation
        let encodeGenerated = try harness.measure("encode, generated code + JSONWriter") {
            var writer = JSONWriter(capacity: 8192)
            try VarlinkReplyEncoder.encode(parameters: reply, continues: false, into: &writer)
            precondition(writer.bytes.count > 1000)
        }
        let encoder = JSONEncoder()
        let encodeFoundation = try harness.measure("encode, Foundation JSONEncoder + Codable") {
            let data = try encoder.encode(foundationValue)
            precondition(data.count > 1000)
        }
        harness.ratio(encodeGenerated, over: encodeFoundation, goal: 2)
    }

    /// Both decoders must read the message to the same value, or the comparison means
    /// nothing. Run on its own (`podlink-bench check`), it is also the release-build check
    /// of `make test`: optimized builds have miscompiled the writer before.
    @discardableResult
    static func crossCheck(message: [UInt8]? = nil, expected: IoPodman.Methods.ListContainers.Reply? = nil) throws
        -> FoundationReplyMessage
    {
        let reply = expected ?? IoPodman.Methods.ListContainers.Reply(containers: (0..<20).map(sampleContainer))
        var bytes = message
        if bytes == nil {
            var writer = JSONWriter()
            try VarlinkReplyEncoder.encode(parameters: reply, continues: false, into: &writer)
            bytes = Array(writer.bytes.dropLast())
        }
        let message = bytes ?? []
        let viaFoundation = try JSONDecoder().decode(FoundationReplyMessage.self, from: Data(message))
        let viaGenerated = try VarlinkReply(parsing: message).decode(IoPodman.Methods.ListContainers.Reply.self)
        guard viaGenerated == reply, viaFoundation.parameters.containers.count == 20,
            viaFoundation.parameters.containers.map(\.containerrunning) == reply.containers.map(\.containerrunning)
        else {
            throw BenchmarkError("the decoders disagree:\n\(viaGenerated.containers[0])\n\(reply.containers[0])")
        }
        return viaFoundation
    }

    /// Decoding alone for a while, for profilers (`perf record ... podlink-bench decode-loop`).
    static func decodeLoop() throws {
        let reply = IoPodman.Methods.ListContainers.Reply(containers: (0..<20).map(sampleContainer))
        var writer = JSONWriter()
        try VarlinkReplyEncoder.encode(parameters: reply, continues: false, into: &writer)
        let message = Array(writer.bytes.dropLast())
        for _ in 0..<5_000 {
            _ = try VarlinkReply(parsing: message).decode(IoPodman.Methods.ListContainers.Reply.self)
        }
    }

    static func sampleContainer(_ index: Int) -> IoPodman.Container {
        IoPodman.Container(
            id: String(repeating: String(index % 10), count: 64),
            image: "localhost/busybox:latest",
            imageid: "sha256:" + String(repeating: "ab", count: 32),
            command: ["/bin/sh", "-c", "sleep 1000"],
            createdat: "2026-11-29T01:06:00.123456789Z",
            runningfor: "\(index) minutes",
            status: index % 2 == 0 ? "running" : "exited",
            ports: [.init(hostPort: "8080", hostIp: "0.0.0.0", protocol: "tcp", containerPort: "80")],
            rootfssize: 1_234_567 + index,
            rwsize: 4096,
            names: "container_\(index)",
            labels: ["app": "bench", "tier": "backend", "index": "\(index)"],
            mounts: [.init(destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "rw"])],
            containerrunning: index % 2 == 0,
            namespaces: .init(
                user: "", uts: "4026531838", pidns: "4026531836", pid: "4242", cgroup: "4026531835",
                net: "4026531992", mnt: "4026531840", ipc: "4026531839"
            )
        )
    }
}

// The same shapes as io.podman's, as Foundation users would write them.
struct FoundationReplyMessage: Codable {
    var parameters: FoundationListContainersReply
}

struct FoundationListContainersReply: Codable {
    var containers: [FoundationContainer]
}

struct FoundationContainer: Codable {
    var id: String
    var image: String
    var imageid: String
    var command: [String]
    var createdat: String
    var runningfor: String
    var status: String
    var ports: [FoundationPortMapping]
    var rootfssize: Int
    var rwsize: Int
    var names: String
    var labels: [String: String]
    var mounts: [FoundationMount]
    var containerrunning: Bool
    var namespaces: FoundationNamespaces
}

struct FoundationPortMapping: Codable {
    var host_port: String
    var host_ip: String
    var `protocol`: String
    var container_port: String
}

struct FoundationMount: Codable {
    var destination: String
    var type: String
    var source: String
    var options: [String]
}

struct FoundationNamespaces: Codable {
    var user, uts, pidns, pid, cgroup, net, mnt, ipc: String
}
