import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// `podlink cp`: trees into and out of containers through SendFile, io.podlink's copy
/// methods and ReceiveFile.
@Suite(.timeLimit(.minutes(5)))
struct CopyTests {
    static func podlink(_ daemon: Daemon, _ arguments: [String]) async throws -> ToolOutput {
        try await Tool.run([Environment.builtProduct("podlink"), "--url", daemon.address] + arguments)
    }

    static func inContainer(_ client: PodmanClient, _ script: String) async throws -> String {
        let result = try await client.execCollecting("box", command: ["sh", "-c", script])
        #expect(result.exitCode == 0, "\(script): \(String(decoding: result.stderr, as: UTF8.self))")
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// A local tree: a file with its own mode, a nested file, a symbolic link.
    static func makeTree(at path: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: true)
        try "#!/bin/sh\necho tool\n".write(toFile: path + "/tool", atomically: true, encoding: .utf8)
        chmod(path + "/tool", 0o750)
        try "nested\n".write(toFile: path + "/sub/file", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: path + "/link", withDestinationPath: "sub/file")
    }

    @Test func aTreeGoesIntoARunningContainerAndComesBackTheSame() async throws {
        try await ExecAttachTests.withRunningContainer(.crun) { daemon, client in
            let local = daemon.root + "/tree"
            try Self.makeTree(at: local)
            // A destination that does not exist becomes the copy.
            var output = try await Self.podlink(daemon, ["cp", local, "box:/data"])
            #expect(output.status == 0, "\(output)")
            #expect(try await Self.inContainer(client, "cat /data/sub/file; stat -c %a /data/tool; readlink /data/link; /data/tool") == "nested\n750\nsub/file\ntool\n")
            // An existing directory receives it.
            output = try await Self.podlink(daemon, ["cp", local + "/sub/file", "box:/data/sub/"])
            #expect(output.status == 0, "\(output)")
            output = try await Self.podlink(daemon, ["cp", local + "/sub/file", "box:/data/renamed"])
            #expect(output.status == 0, "\(output)")
            #expect(try await Self.inContainer(client, "cat /data/renamed") == "nested\n")

            let back = daemon.root + "/back"
            try FileManager.default.createDirectory(atPath: back, withIntermediateDirectories: true)
            output = try await Self.podlink(daemon, ["cp", "box:/data", back])
            #expect(output.status == 0, "\(output)")
            #expect(try String(contentsOfFile: back + "/data/sub/file", encoding: .utf8) == "nested\n")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: back + "/data/link") == "sub/file")
            let mode = try FileManager.default.attributesOfItem(atPath: back + "/data/tool")[.posixPermissions] as? Int
            #expect(mode == 0o750)
            // Out to a name that does not exist: the copy takes it.
            output = try await Self.podlink(daemon, ["cp", "box:/data/sub/file", back + "/single"])
            #expect(output.status == 0, "\(output)")
            #expect(try String(contentsOfFile: back + "/single", encoding: .utf8) == "nested\n")
            #expect(TransferTests.transferFiles(daemon).isEmpty, "every archive was removed from the transfer area")
        }
    }

    /// A link the container planted pointing at the host's root is followed as the
    /// container sees it: the copy lands in the container, the host's directory stays empty.
    @Test func aLinkInTheContainerCannotLeadTheCopyOntoTheHost() async throws {
        try await ExecAttachTests.withRunningContainer(.crun) { daemon, client in
            let hostDirectory = daemon.root + "/host-side"
            try FileManager.default.createDirectory(atPath: hostDirectory, withIntermediateDirectories: true)
            _ = try await Self.inContainer(client, "mkdir -p \(hostDirectory) && ln -s /../../../../../../../..\(hostDirectory) /escape")
            let file = daemon.root + "/payload"
            try "payload\n".write(toFile: file, atomically: true, encoding: .utf8)
            let output = try await Self.podlink(daemon, ["cp", file, "box:/escape/"])
            #expect(output.status == 0, "\(output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: hostDirectory).isEmpty, "nothing was written on the host")
            #expect(try await Self.inContainer(client, "cat \(hostDirectory)/payload") == "payload\n")
        }
    }

    @Test func aStoppedContainerGetsTheCopyBeforeItStarts() async throws {
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.network = "none"
            let id = try await client.create(image: "busybox", command: ["cat", "/message"], options: options)
            let file = daemon.root + "/message"
            try "before start\n".write(toFile: file, atomically: true, encoding: .utf8)
            let output = try await Self.podlink(daemon, ["cp", file, "\(id):/message"])
            #expect(output.status == 0, "\(output)")
            try await client.start(id)
            #expect(try await client.wait(id) == 0)
            var lines: [String] = []
            for try await line in client.logs(id) { lines.append(line.msg) }
            #expect(lines.contains("before start"))
            #expect(try await client.api.listContainerMounts().mounts.isEmpty, "the copy's mount was given back")
        }
    }

    @Test func badCopiesAreRefusedSayingWhatWasWrong() async throws {
        try await ExecAttachTests.withRunningContainer(.crun) { daemon, client in
            var output = try await Self.podlink(daemon, ["cp", "nosuch:/etc/hosts", daemon.root + "/x"])
            #expect(output.status == 125)
            #expect(output.stderr.contains("nosuch"), "\(output)")
            output = try await Self.podlink(daemon, ["cp", "box:/no/such/file", daemon.root + "/x"])
            #expect(output.status == 125)
            #expect(output.stderr.contains("/no/such/file does not exist in the container"), "\(output)")
            output = try await Self.podlink(daemon, ["cp", daemon.tarball, "box:/no/such/dir/file"])
            #expect(output.status == 125)
            #expect(output.stderr.contains("is not a directory in the container"), "\(output)")
            output = try await Self.podlink(daemon, ["cp", daemon.root + "/a", daemon.root + "/b"])
            #expect(output.status != 0)
            #expect(output.stderr.contains("CONTAINER:PATH"), "\(output)")

            // An archive whose entry climbs out of the destination: refused, nothing written.
            let evil = daemon.root + "/evil.tar"
            let made = try await Tool.run(["python3", "-c", """
                import io, tarfile
                with tarfile.open(\(evil.debugDescription), "w") as tar:
                    data = b"escaped\\n"
                    info = tarfile.TarInfo("../../escaped"); info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                """])
            #expect(made.status == 0, "\(made)")
            await #expect(throws: IoPodlink.CopyFailed.self) {
                try await client.copyArchive(evil, into: "box", at: "/tmp")
            }
            #expect(try await Self.inContainer(client, "ls /escaped /tmp/escaped 2>/dev/null; true") == "")
            #expect(TransferTests.transferFiles(daemon).isEmpty)
        }
    }
}
