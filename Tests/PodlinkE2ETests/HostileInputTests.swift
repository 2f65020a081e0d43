import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Names, IDs and image references that try to leave the store or inject something are
/// refused with an error that names them, and nothing is written anywhere; no call sees
/// the daemon's environment or another call's data.
@Suite(.serialized)
struct HostileInputTests {
    static let hostileNames = [
        "../../etc/podlink-escape", "..", "a/b", "/abs", "x;touch /tmp/podlink-injected", "$(touch /tmp/podlink-injected)",
        "a\nb", "-rf", ".hidden", String(repeating: "a", count: 300), "名前",
    ]

    @Test func hostileContainerNamesAreRefused() async throws {
        try await Daemon.with { daemon, client in
            for name in Self.hostileNames {
                var options = PodmanClient.CreateOptions()
                options.name = name
                do {
                    _ = try await client.create(image: "busybox", command: ["/bin/true"], options: options)
                    Issue.record("the name \(name.debugDescription) was accepted")
                } catch let error as IoPodman.ErrorOccurred {
                    #expect(error.reason.contains("name"), "\(name.debugDescription): \(error.reason)")
                }
            }
            #expect(try await client.containers().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "/etc/podlink-escape"))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/podlink-injected"))
        }
    }

    @Test func hostileIDsAndReferencesFindNothing() async throws {
        try await Daemon.with { daemon, client in
            let id = try await client.create(image: "busybox", command: ["/bin/true"])
            for reference in ["../../../etc/passwd", "../\(id)", "\(id)/..", "*", "%", "_", "'; DROP TABLE containers; --"] {
                await #expect(throws: IoPodman.ContainerNotFound.self, "\(reference)") { _ = try await client.inspect(reference) }
                await #expect(throws: IoPodman.ContainerNotFound.self, "\(reference)") { try await client.remove(reference, force: true) }
            }
            #expect(try await client.exists(id), "the container is untouched")
            for image in ["../../etc/passwd", "localhost/../../x", "busybox/../../../etc", "/etc/passwd", "busybox:../x"] {
                do {
                    _ = try await client.create(image: image, command: ["/bin/true"])
                    Issue.record("the image \(image) was accepted")
                } catch is IoPodman.ImageNotFound {
                } catch let error as IoPodman.ErrorOccurred {
                    #expect(error.reason.contains(image) || error.reason.contains("reference"), "\(error.reason)")
                }
            }
            for tag in ["../evil", "localhost/../../evil", "UPPER/case", "a:b:c"] {
                await #expect(throws: (any Error).self, "the tag \(tag)") { try await client.tagImage("busybox", as: tag) }
            }
            let images = try await client.images().flatMap(\.repoTags)
            #expect(images == ["localhost/busybox:latest"], "\(images)")
            try await client.remove(id)
        }
    }

    @Test func noCallSeesTheDaemonsEnvironmentOrAnotherCallsData() async throws {
        try await Daemon.with(environment: ["PODLINK_DAEMON_SECRET=hunter2"]) { daemon, client in
            var first = PodmanClient.CreateOptions()
            first.env = ["MINE": "first"]
            let one = try await client.create(image: "busybox", command: ["/bin/env"], options: first)
            let other = try await daemon.client()
            let two = try await other.create(image: "busybox", command: ["/bin/env"])
            for id in [one, two] {
                try await client.start(id)
                #expect(try await client.wait(id) == 0)
            }
            var seen: [String: [String]] = [:]
            for id in [one, two] {
                for try await line in client.logs(id) { seen[id, default: []].append(line.msg) }
            }
            #expect(seen[one, default: []].contains("MINE=first"))
            #expect(!seen[two, default: []].contains { $0.hasPrefix("MINE=") }, "the second container got the first one's env")
            #expect(!seen.values.joined().contains { $0.contains("hunter2") }, "a container saw the daemon's environment")
            await other.close()
        }
    }
}
