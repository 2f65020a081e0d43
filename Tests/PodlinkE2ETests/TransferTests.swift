import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// SendFile and ReceiveFile: files between a client and the daemon on upgraded connections.
@Suite(.timeLimit(.minutes(5)))
struct TransferTests {
    /// podman-remote 1.9.3's `import` on one connection, as it does it: SendFile with
    /// upgrade, the file's bytes, the "path:" answer, then ImportImage on the same
    /// connection. `send` bytes of the file are sent (all of them unless told).
    static func podmanRemoteImport(_ socket: String, file: String, send: Int? = nil) -> String {
        """
        import json, os, socket, sys
        data = open(\(file.debugDescription), "rb").read()
        s = socket.socket(socket.AF_UNIX); s.connect(\(socket.debugDescription))
        def reply():
            buffer = b""
            while not buffer.endswith(b"\\0"):
                chunk = s.recv(1)
                if not chunk: return None
                buffer += chunk
            return json.loads(buffer[:-1])
        s.sendall(json.dumps({"method": "io.podman.SendFile", "parameters": {"type": "", "length": len(data)}, "upgrade": True}).encode() + b"\\0")
        print("reply", json.dumps(reply()))
        s.sendall(data[:\(send.map(String.init) ?? "len(data)")])
        if \(send == nil ? "False" : "True"):
            s.close(); sys.exit(0)
        answer = b""
        while not answer.endswith(b":"):
            answer += s.recv(1)
        path = answer[:-1].decode()
        print("path", path)
        s.sendall(json.dumps({"method": "io.podman.ImportImage", "parameters": {"source": path, "reference": "localhost/sent:latest", "message": "", "changes": [], "delete": True}}).encode() + b"\\0")
        print("import", json.dumps(reply()))
        """
    }

    static func transferFiles(_ daemon: Daemon) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: daemon.staticDir + "/transfers")) ?? []
    }

    @Test func podmanRemotesImportSendsTheFileAndImportsItOnTheSameConnection() async throws {
        try await Daemon.with { daemon, client in
            let output = try await Tool.run(["python3", "-c", Self.podmanRemoteImport(daemon.socket, file: daemon.tarball)])
            #expect(output.status == 0, "\(output)")
            let lines = output.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("reply {\"parameters\": {\"file_handle\": \"\(daemon.staticDir)/transfers/") == true, "\(output)")
            #expect(lines.dropFirst().first?.hasPrefix("path \(daemon.staticDir)/transfers/") == true, "\(output)")
            #expect(lines.last?.hasPrefix("import {\"parameters\": {\"image\": ") == true, "\(output)")
            #expect(try await client.images().contains { $0.repoTags.contains("localhost/sent:latest") })
            #expect(Self.transferFiles(daemon).isEmpty, "ImportImage with delete removed the sent file")
        }
    }

    @Test func theSDKSendsAndImportsALocalTarball() async throws {
        try await Daemon.with { daemon, client in
            let id = try await client.importImage(localTarball: daemon.tarball, reference: "localhost/local:latest")
            #expect(try await client.images().contains { $0.id == id && $0.repoTags.contains("localhost/local:latest") })
            #expect(Self.transferFiles(daemon).isEmpty)
            // The file a client sends is the file the daemon keeps, byte for byte.
            let remote = try await client.sendFile(daemon.tarball)
            #expect(FileManager.default.contentsEqual(atPath: remote, andPath: daemon.tarball))
            #expect(remote.hasPrefix(daemon.staticDir + "/transfers/"))
        }
    }

    @Test func aClientThatHangsUpMidTransferLeavesNoFileAndStallsNothing() async throws {
        try await Daemon.with { daemon, client in
            // The state's reader pool opens connections as it needs them, up to its bound
            // and keeps them: those are not the transfer's.
            let before = daemon.descriptorsOutsideState
            let output = try await Tool.run(["python3", "-c", Self.podmanRemoteImport(daemon.socket, file: daemon.tarball, send: 1000)])
            #expect(output.status == 0, "\(output)")
            let deadline = ContinuousClock.now + .seconds(10)
            while !Self.transferFiles(daemon).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(Self.transferFiles(daemon).isEmpty, "the partial file was removed")
            #expect(try await client.api.getVersion().remoteApiVersion == 1)
            while daemon.descriptorsOutsideState > before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(daemon.descriptorsOutsideState <= before, "\(daemon.descriptorTargets)")
        }
    }

    @Test func aFileTooLargeIsRefusedBeforeAnyByteAndReceiveFileSendsOnlyItsOwnFiles() async throws {
        try await Daemon.with { daemon, client in
            do {
                _ = try await client.api.varlink.upgrade(IoPodman.Methods.SendFile.self, .init(type: "", length: 1 << 60)) { _, _ in }
                Issue.record("an exabyte was accepted")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("over the daemon's limit"), "\(error.reason)")
            }
            do {
                try await client.receiveFile("/etc/passwd", to: daemon.root + "/stolen")
                Issue.record("ReceiveFile sent a file of the host")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("not a file the daemon prepared"), "\(error.reason)")
            }
            // A prepared file goes to the client and is deleted.
            let prepared = daemon.staticDir + "/transfers/prepared-test"
            try FileManager.default.createDirectory(atPath: daemon.staticDir + "/transfers", withIntermediateDirectories: true)
            try Data("prepared bytes".utf8).write(to: URL(fileURLWithPath: prepared))
            try await client.receiveFile(prepared, to: daemon.root + "/fetched")
            #expect(try String(contentsOfFile: daemon.root + "/fetched", encoding: .utf8) == "prepared bytes")
            #expect(!FileManager.default.fileExists(atPath: prepared))
        }
    }
}
