import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing
import Yams

/// Kubernetes YAML both ways: what GenerateKube writes plays again here and in podman
/// 4.3 (`podman kube play`), and what `podman kube generate` writes plays here.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct KubeTests {
    static func podlink(_ daemon: Daemon, _ arguments: [String]) async throws -> ToolOutput {
        try await Tool.run([Environment.builtProduct("podlink"), "--url", daemon.address] + arguments)
    }

    /// A pod with a web server publishing a port, an environment variable, a named volume
    /// holding a page, and a host directory mounted read-only.
    static func makeWebPod(_ client: PodmanClient, _ daemon: Daemon, name: String) async throws {
        try await client.createPod(name, labels: ["tier": "front"], publish: ["18096:80"])
        let shared = daemon.root + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try "from the host\n".write(toFile: shared + "/note", atomically: true, encoding: .utf8)
        var options = PodmanClient.CreateOptions()
        options.pod = name
        options.name = "web"
        options.env = ["GREETING": "hello"]
        options.volumes = ["\(name)-pages:/www", "\(shared):/shared:ro"]
        _ = try await client.create(
            image: "busybox", command: ["/bin/sh", "-c", "echo $GREETING > /www/index.html; exec httpd -f -p 80 -h /www"], options: options)
        try await client.startPod(name)
    }

    @Test func generatedYAMLDescribesThePodAndPlaysAgain() async throws {
        try await Daemon.with { daemon, client in
            try await Self.makeWebPod(client, daemon, name: "kweb")
            #expect(try await NetworkTests.fetch("http://127.0.0.1:18096/", in: daemon) == "hello\n")
            let (yaml, service) = try await client.generateKube("kweb", service: true)

            let pod = try #require(try Yams.load(yaml: yaml) as? [String: Any])
            #expect(pod["apiVersion"] as? String == "v1" && pod["kind"] as? String == "Pod")
            let metadata = try #require(pod["metadata"] as? [String: Any])
            #expect(metadata["name"] as? String == "kweb")
            #expect((metadata["labels"] as? [String: String]) == ["app": "kweb", "tier": "front"])
            let spec = try #require(pod["spec"] as? [String: Any])
            let containers = try #require(spec["containers"] as? [[String: Any]])
            #expect(containers.count == 1, "the infra container is left out")
            let web = containers[0]
            #expect(web["name"] as? String == "web" && web["image"] as? String == "localhost/busybox:latest")
            #expect((web["env"] as? [[String: String]]) == [["name": "GREETING", "value": "hello"]])
            let port = (web["ports"] as? [[String: Any]])?.first
            #expect(port?["containerPort"] as? Int == 80 && port?["hostPort"] as? Int == 18096 && port?["protocol"] as? String == "TCP")
            let volumes = try #require(spec["volumes"] as? [[String: Any]])
            #expect(volumes.contains { ($0["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String == "kweb-pages" })
            #expect(volumes.contains { ($0["hostPath"] as? [String: Any])?["path"] as? String == daemon.root + "/shared" })
            let mounts = try #require(web["volumeMounts"] as? [[String: Any]])
            #expect(mounts.contains { $0["mountPath"] as? String == "/shared" && $0["readOnly"] as? Bool == true })
            let serviceDoc = try #require(try Yams.load(yaml: service) as? [String: Any])
            #expect(serviceDoc["kind"] as? String == "Service")
            #expect(((serviceDoc["spec"] as? [String: Any])?["ports"] as? [[String: Any]])?.first?["port"] as? Int == 80)

            // Removed and played again: the same pod, the same page (the named volume kept it).
            try await client.removePod("kweb", force: true)
            let file = daemon.root + "/kweb.yaml"
            try (yaml + "---\n" + service).write(toFile: file, atomically: true, encoding: .utf8)
            let played = try await Self.podlink(daemon, ["play", "kube", file])
            #expect(played.status == 0, "\(played)")
            #expect(try await client.pod("kweb").status == "Running")
            #expect(try await client.containers().contains { $0.names == "kweb-web" })
            #expect(try await NetworkTests.fetch("http://127.0.0.1:18096/", in: daemon) == "hello\n")
            let note = try await client.execCollecting("kweb-web", command: ["cat", "/shared/note"])
            #expect(String(decoding: note.stdout, as: UTF8.self) == "from the host\n")
            try await client.removePod("kweb", force: true)
            try await client.removeVolume("kweb-pages")
        }
    }

    @Test func badYAMLIsRefusedSayingWhatWasWrong() async throws {
        try await Daemon.with { daemon, client in
            for (yaml, expected) in [
                ("kind: Deployment\nmetadata: {name: d}\n", "Deployment"),
                ("just: [text", "not a Kubernetes Pod"),
                ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: busybox, volumeMounts: [{name: v, mountPath: /v}]}\n", "does not declare"),
                ("apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  containers:\n  - {name: c, image: nosuchimage}\n", "nosuchimage"),
            ] {
                do {
                    try await client.playKube(yaml)
                    Issue.record("accepted: \(yaml)")
                } catch let error as IoPodlink.KubeError {
                    #expect(error.reason.contains(expected), "\(error.reason)")
                }
            }
            #expect(try await client.pods().isEmpty, "a pod that could not be played is not left behind")
        }
    }

    // MARK: - podman 4.3

    static var podman: String? { Environment.executable("podman") }

    /// podman's infra image on these machines: catatonit, as Podlink's (its default pause
    /// image would need a registry).
    /// Returns the configuration file and the IDs of the images imported (to remove by ID:
    /// a second import of the same name leaves the first untagged).
    static func podmanPrerequisites(_ daemon: Daemon, podman: String) async throws -> (conf: String, images: [String]) {
        let pause = daemon.root + "/pause"
        try FileManager.default.createDirectory(atPath: pause, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/bin/catatonit", toPath: pause + "/catatonit")
        _ = try await Tool.run(["/bin/tar", "-C", pause, "-cf", daemon.root + "/pause.tar", "."])
        let imported = try await Tool.run([podman, "import", "--change", "ENTRYPOINT [\"/catatonit\",\"-P\"]", daemon.root + "/pause.tar", "localhost/podlink-test-pause:latest"])
        #expect(imported.status == 0, "\(imported)")
        let busybox = try await Tool.run([podman, "import", daemon.tarball, "localhost/busybox:latest"])
        #expect(busybox.status == 0, "\(busybox)")
        let conf = daemon.root + "/containers.conf"
        try "[engine]\ninfra_image = \"localhost/podlink-test-pause:latest\"\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let ids = [imported, busybox].map { $0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return (conf, ids)
    }

    /// podman in the daemon's network namespace (its bridge stays there), with the infra image above.
    static func runPodman(_ daemon: Daemon, _ conf: String, _ arguments: [String]) async throws -> ToolOutput {
        try await daemon.runInNetworkNamespace(["env", "CONTAINERS_CONF_OVERRIDE=\(conf)", podman!] + arguments)
    }

    @Test func podmanPlaysTheYAMLPodlinkWrites() async throws {
        guard Environment.require(Self.podman != nil, "podman 4.3 (apt-get install podman)"), let podman = Self.podman else { return }
        try await Daemon.with { daemon, client in
            let (conf, images) = try await Self.podmanPrerequisites(daemon, podman: podman)
            try await Self.makeWebPod(client, daemon, name: "kforpodman")
            let yaml = try await client.generateKube("kforpodman").pod
            try await client.removePod("kforpodman", force: true)
            let file = daemon.root + "/for-podman.yaml"
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
            defer {
                Task {
                    _ = try? await Self.runPodman(daemon, conf, ["pod", "rm", "-f", "-t", "0", "kforpodman"])
                    _ = try? await Tool.run([podman, "volume", "rm", "-f", "kforpodman-pages"])
                    _ = try? await Tool.run([podman, "rmi", "-f"] + images)
                }
            }
            let played = try await Self.runPodman(daemon, conf, ["kube", "play", file])
            #expect(played.status == 0, "\(played)")
            let state = try await Self.runPodman(daemon, conf, ["pod", "inspect", "kforpodman", "--format", "{{.State}} {{.NumContainers}}"])
            #expect(state.stdout.hasPrefix("Running 2"), "\(state)")
            #expect(try await NetworkTests.fetch("http://127.0.0.1:18096/", in: daemon) == "hello\n")
            let removed = try await Self.runPodman(daemon, conf, ["pod", "rm", "-f", "-t", "0", "kforpodman"])
            #expect(removed.status == 0, "\(removed)")
        }
    }

    @Test func podlinkPlaysTheYAMLPodmanWrites() async throws {
        guard Environment.require(Self.podman != nil, "podman 4.3 (apt-get install podman)"), let podman = Self.podman else { return }
        try await Daemon.with { daemon, client in
            let (conf, images) = try await Self.podmanPrerequisites(daemon, podman: podman)
            defer { Task { _ = try? await Tool.run([podman, "rmi", "-f"] + images) } }
            let name = "podlink-kube-\(getpid())"
            let created = try await Self.runPodman(daemon, conf, [
                // (With --network none podman's YAML would leave the port out.)
                "create", "--name", name, "-e", "COLOUR=blue", "-p", "18097:80", "localhost/busybox:latest",
                "/bin/sh", "-c", "echo $COLOUR > /tmp/index.html; exec httpd -f -p 80 -h /tmp",
            ])
            #expect(created.status == 0, "\(created)")
            let generated = try await Self.runPodman(daemon, conf, ["kube", "generate", name])
            _ = try await Self.runPodman(daemon, conf, ["rm", "-f", name])
            #expect(generated.status == 0, "\(generated)")
            let played = try await client.playKube(generated.stdout)
            let pod = try #require(played.first)
            #expect(pod.containers.count == 1)
            #expect(try await client.pod(pod.id).status == "Running")
            #expect(try await NetworkTests.fetch("http://127.0.0.1:18097/", in: daemon) == "blue\n")
            try await client.removePod(pod.id, force: true)
        }
    }
}
