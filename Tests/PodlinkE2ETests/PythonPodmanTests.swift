import Foundation
import PodlinkTestSupport
import Testing

/// python-podman 1.6, the library written for podman 1.x's io.podman, driving podlinkd
/// through its own API: the checks are in Peers/python_podman_check.py.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PythonPodmanTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Peers/python_podman_check.py").path

    @Test func pythonPodmanDrivesContainersImagesPodsAndTheSystem() async throws {
        guard Environment.require(Environment.pythonPodman, "python-podman 1.6 (pip install podman==1.6.0)") else { return }
        try await Daemon.with { daemon, _ in
            let output = try await Tool.run(["python3", Self.script, daemon.address, "localhost/busybox:latest", daemon.tarball])
            #expect(output.status == 0, "\(output)")
            let steps = output.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") }.map { String($0.dropFirst(3)) }
            #expect(steps == [
                "connect", "system", "images", "create with the library's defaults", "containers",
                "images: tag, import with delete, remove, delete unused",
                "pods: create, list, get, inspect, start, top, stats, pause, unpause, restart, stop, kill, remove",
            ], "\(output)")
        }
    }

    @Test func pythonPodmanPullsCommitsExportsAndPushes() async throws {
        guard Environment.require(Environment.pythonPodman, "python-podman 1.6 (pip install podman==1.6.0)") else { return }
        try await RegistryTests.withRegistries([.plain]) { daemon, _, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "one", tag: "1", layers: 2)
            try await registry.seed("oci:\(layout):1", as: "one:1")
            let output = try await Tool.run(["python3", Self.script, daemon.address, "localhost/busybox:latest", daemon.tarball, registry.host])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.contains("ok registry: pull, search, history, commit, export, push"), "\(output)")
        }
    }
}
