import Foundation
import Glibc
import PodlinkTestSupport
import PodmanClient
import Testing

/// A podlinkd process on scratch directories and its own socket, with the busybox image
/// imported; stopped and cleaned up afterwards (containers included).
final class Daemon: @unchecked Sendable {
    let root: String
    let socket: String
    let configFile: String
    var address: String { "unix:\(socket)" }
    var staticDir: String { root + "/static" }
    var tmpDir: String { root + "/tmp" }
    private(set) var process: ChildProcess?
    private(set) var tarball = ""

    static var available: Bool {
        Environment.require(geteuid() == 0, "root (containers need it)")
            && Environment.require(Environment.executable("conmon") != nil, "conmon")
            && Environment.require(Environment.executable("crun") != nil || Environment.executable("runc") != nil, "crun or runc")
            && Environment.require(FileManager.default.fileExists(atPath: "/bin/busybox"), "busybox-static")
    }

    init() throws {
        mkdir("/tmp/podlink-tests", 0o755)
        var template = Array("/tmp/podlink-tests/e2e-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        socket = root + "/io.podman"
        configFile = root + "/podlink.conf"
        try "static_dir = \"\(root)/static\"\ntmp_dir = \"\(root)/tmp\"\n".write(toFile: configFile, atomically: true, encoding: .utf8)
    }

    func start() async throws {
        let process = try ChildProcess.start([Environment.builtProduct("podlinkd"), "--config", configFile, "--log-level", "warning", address])
        self.process = process
        try await waitForSocket(socket)
    }

    func stop() async {
        await process?.stop()
        process = nil
    }

    func client() async throws -> PodmanClient { try await PodmanClient.connect(to: address) }

    /// Imports the busybox image as localhost/busybox:latest through the daemon.
    func importBusybox(_ client: PodmanClient) async throws {
        tarball = try await TestImages.busyboxRootfsTarball(in: root, gzip: true)
        _ = try await client.importImage(tarball: tarball, reference: "localhost/busybox:latest")
    }

    func tearDown() async {
        if process == nil { try? await start() }
        if let client = try? await client() {
            for container in (try? await client.containers()) ?? [] { try? await client.remove(container.id, force: true) }
            await client.close()
        }
        await stop()
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        #expect(!mounts.contains(root), "a mount under \(root) outlived the test")
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `body` with a started daemon and a client, tearing everything down after.
    static func with(_ body: (Daemon, PodmanClient) async throws -> Void) async throws {
        guard available else { return }
        let daemon = try Daemon()
        do {
            try await daemon.start()
            let client = try await daemon.client()
            try await daemon.importBusybox(client)
            try await body(daemon, client)
            await client.close()
        } catch {
            await daemon.tearDown()
            throw error
        }
        await daemon.tearDown()
    }
}
