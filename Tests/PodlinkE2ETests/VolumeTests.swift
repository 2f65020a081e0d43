import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Named and anonymous volumes: data that outlives containers and the daemon.
@Suite(.timeLimit(.minutes(5)))
struct VolumeTests {
    static func runCollecting(_ client: PodmanClient, _ script: String, volumes: [String]) async throws -> (Int, String) {
        var options = PodmanClient.CreateOptions()
        options.network = "none"
        options.volumes = volumes
        let id = try await client.create(image: "busybox", command: ["sh", "-c", script], options: options)
        try await client.start(id)
        let code = try await client.wait(id)
        var output: [String] = []
        for try await line in client.logs(id) { output.append(line.msg) }
        try await client.remove(id)
        return (code, output.joined(separator: "\n"))
    }

    static func inspect(_ client: PodmanClient, _ name: String) async throws -> [String: Any] {
        let json = try await client.inspectVolume(name)
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func aNamedVolumeOutlivesItsContainersAndTheDaemon() async throws {
        try await Daemon.with { daemon, client in
            #expect(try await client.createVolume("data", labels: ["team": "web"]) == "data")
            let details = try await Self.inspect(client, "data")
            #expect(details["Name"] as? String == "data")
            #expect(details["Driver"] as? String == "local")
            #expect(details["Scope"] as? String == "local")
            #expect(details["Mountpoint"] as? String == daemon.staticDir + "/volumes/data/_data")
            #expect((details["Labels"] as? [String: String]) == ["team": "web"])
            #expect((details["CreatedAt"] as? String)?.hasPrefix("20") == true)
            #expect(details["Anonymous"] == nil, "podman leaves Anonymous out when false")

            let (written, _) = try await Self.runCollecting(client, "echo kept > /data/file", volumes: ["data:/data"])
            #expect(written == 0)
            let (read, output) = try await Self.runCollecting(client, "cat /data/file", volumes: ["data:/data"])
            #expect(read == 0)
            #expect(output == "kept")

            // In use: refused, naming the container; forced: the container goes first.
            var options = PodmanClient.CreateOptions()
            options.network = "none"
            options.volumes = ["data:/data"]
            let user = try await client.create(image: "busybox", command: ["sleep", "1000"], options: options)
            let refused = try await client.api.volumeRemove(options: .init(volumes: ["data"], all: false, force: false))
            #expect(refused.successes.isEmpty)
            #expect(refused.failures["data"]?.contains(String(user.prefix(12))) == true, "\(refused.failures)")

            await daemon.stop()
            try await daemon.start()
            let again = try await daemon.client()
            #expect(try await again.volumes().map(\.name) == ["data"])
            #expect(try String(contentsOfFile: daemon.staticDir + "/volumes/data/_data/file", encoding: .utf8) == "kept\n")
            try await again.removeVolume("data", force: true)
            #expect(try await again.volumes().isEmpty)
            #expect(try await again.containers().isEmpty, "forcing removed the container that used it")
            #expect(!FileManager.default.fileExists(atPath: daemon.staticDir + "/volumes/data"))
            await again.close()
        }
    }

    @Test func aVolumeIsMadeOnFirstUseAndReadOnlyHolds() async throws {
        try await Daemon.with { daemon, client in
            let (code, output) = try await Self.runCollecting(client, "touch /v/file 2>&1; echo $?", volumes: ["auto:/v:ro"])
            #expect(code == 0)
            #expect(output.hasSuffix("1"), "\(output)")
            #expect(output.contains("Read-only"), "\(output)")
            #expect(try await client.volumes().map(\.name) == ["auto"])
            #expect(try await client.pruneVolumes() == ["auto"])
        }
    }

    /// An image's VOLUME gets an anonymous volume holding what the image has there;
    /// `rm -v` removes it, plain `rm` keeps it for prune.
    @Test func anImagesVolumeGetsAnAnonymousVolumeWithTheImagesContent() async throws {
        try await Daemon.with { daemon, client in
            let root = try TestImages.busyboxRootfs(in: daemon.root, name: "with-volume")
            try FileManager.default.createDirectory(atPath: root + "/seed", withIntermediateDirectories: true)
            try "from the image\n".write(toFile: root + "/seed/file", atomically: true, encoding: .utf8)
            chown(root + "/seed/file", 1234, 1234)
            let tarball = daemon.root + "/with-volume.tar"
            let packed = try await Tool.run(["/bin/tar", "-cf", tarball, "--numeric-owner", "-C", root, "."])
            #expect(packed.status == 0, "\(packed)")
            _ = try await client.importImage(tarball: tarball, reference: "localhost/seeded:latest", changes: ["VOLUME /seed"])

            var options = PodmanClient.CreateOptions()
            options.network = "none"
            let first = try await client.create(image: "seeded", command: ["sh", "-c", "cat /seed/file; stat -c %u /seed/file; echo more > /seed/added"], options: options)
            try await client.start(first)
            #expect(try await client.wait(first) == 0)
            var lines: [String] = []
            for try await line in client.logs(first) { lines.append(line.msg) }
            #expect(lines == ["from the image", "1234"])
            let mounts = try #require(try JSONSerialization.jsonObject(with: Data(try await client.api.inspectContainer(name: first).container.utf8)) as? [String: Any])["Mounts"] as? [[String: Any]]
            let volume = try #require(mounts?.first { $0["Destination"] as? String == "/seed" })
            #expect(volume["Type"] as? String == "volume")
            let name = try #require(volume["Name"] as? String)
            #expect(try await Self.inspect(client, name)["Anonymous"] as? Bool == true)
            try await client.remove(first, removeVolumes: true)
            #expect(try await client.volumes().isEmpty, "rm -v removed the anonymous volume")

            let second = try await client.create(image: "seeded", command: ["true"], options: options)
            try await client.remove(second)
            #expect(try await client.volumes().count == 1, "plain rm keeps it")
            #expect(try await client.pruneVolumes().count == 1)
        }
    }

    @Test func tmpfsAndBindVolumesAreMountsOfTheirOwnUntilRemoved() async throws {
        try await Daemon.with { daemon, client in
            try await client.createVolume("scratch", options: ["type": "tmpfs", "device": "tmpfs", "o": "size=1m"])
            let mountPoint = daemon.staticDir + "/volumes/scratch/_data"
            let mounts = { MountTable.read() }
            #expect(mounts().contains(" \(mountPoint) "), "the volume is mounted")
            let (code, output) = try await Self.runCollecting(client, "grep ' /scratch ' /proc/mounts", volumes: ["scratch:/scratch"])
            #expect(code == 0)
            #expect(output.contains("tmpfs"), "\(output)")
            try await client.removeVolume("scratch")
            #expect(!mounts().contains(" \(mountPoint) "), "removal unmounted it")

            // A bind of a host directory: what the container writes is in that directory.
            let host = daemon.root + "/host-data"
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            try await client.createVolume("bound", options: ["type": "none", "o": "bind", "device": host])
            let (written, _) = try await Self.runCollecting(client, "echo through > /b/file", volumes: ["bound:/b"])
            #expect(written == 0)
            #expect(try String(contentsOfFile: host + "/file", encoding: .utf8) == "through\n")
            try await client.removeVolume("bound")
            #expect(FileManager.default.fileExists(atPath: host + "/file"), "removing the volume leaves the host's directory alone")
        }
    }

    @Test func podlinksVolumeCommands() async throws {
        try await Daemon.with { daemon, client in
            func podlink(_ arguments: String...) async throws -> ToolOutput {
                try await Tool.run([Environment.builtProduct("podlink"), "--url", daemon.address] + arguments)
            }
            var output = try await podlink("volume", "create", "--label", "a=b", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "cli")
            #expect(output.status == 0 && output.stdout == "cli\n", "\(output)")
            output = try await podlink("volume", "ls", "-q")
            #expect(output.stdout == "cli\n", "\(output)")
            output = try await podlink("volume", "inspect", "cli")
            #expect(output.stdout.contains("\"Options\":{"), "\(output)")
            output = try await podlink("run", "--rm", "--network", "none", "-v", "cli:/c", "busybox", "sh", "-c", "echo hi > /c/f")
            #expect(output.status == 0, "\(output)")
            output = try await podlink("run", "-d", "--network", "none", "-v", "cli:/c", "busybox", "sleep", "100")
            #expect(output.status == 0, "\(output)")
            output = try await podlink("volume", "rm", "cli")
            #expect(output.status == 125 && output.stderr.contains("is used by container"), "\(output)")
            output = try await podlink("volume", "rm", "-f", "cli")
            #expect(output.status == 0 && output.stdout == "cli\n", "\(output)")
            output = try await podlink("volume", "prune", "-f")
            #expect(output.status == 0 && output.stdout.isEmpty, "\(output)")
        }
    }

    @Test func badVolumeRequestsAreRefusedSayingWhatWasWrong() async throws {
        try await Daemon.with { daemon, client in
            await #expect(throws: IoPodman.ErrorOccurred.self) { try await client.createVolume("x", options: ["size": "1m"]) }
            do {
                _ = try await client.api.volumeCreate(options: .init(volumeName: "y", driver: "nfs", labels: [:], options: [:]))
                Issue.record("an unknown driver was accepted")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("local driver only"), "\(error.reason)")
            }
            do {
                _ = try await client.inspectVolume("missing")
                Issue.record("a missing volume was inspected")
            } catch let error as IoPodman.VolumeNotFound {
                #expect(error.id == "missing")
            }
            try await client.createVolume("once")
            await #expect(throws: IoPodman.ErrorOccurred.self) { try await client.createVolume("once") }
            // A mount that fails leaves no volume behind.
            await #expect(throws: IoPodman.ErrorOccurred.self) { try await client.createVolume("mnt", options: ["type": "nosuchfs", "device": "none"]) }
            #expect(try await client.volumes().map(\.name) == ["once"])
            #expect(!FileManager.default.fileExists(atPath: daemon.staticDir + "/volumes/mnt"))
        }
    }
}
