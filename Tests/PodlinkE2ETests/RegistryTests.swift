import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Pull, push, search, login against real registries (docker-registry on loopback in the
/// daemon's network namespace, seeded with skopeo), and the archives podman 4.3 reads.
@Suite(.timeLimit(.minutes(5)))
struct RegistryTests {
    /// A daemon pointed at a fresh registries.conf, certs.d and auth file, with the
    /// registries of `kinds` running beside it.
    static func withRegistries(
        _ kinds: [Registry.Kind], configure: (RegistrySetup) throws -> Void = { _ in },
        _ body: (Daemon, PodmanClient, [Registry]) async throws -> Void
    ) async throws {
        guard Daemon.available, RegistrySetup.available else { return }
        let setup = try RegistrySetup()
        defer { setup.remove() }
        try await setup.makePKI()
        try configure(setup)
        try await Daemon.with(environment: setup.daemonEnvironment) { daemon, client in
            var registries: [Registry] = []
            do {
                for kind in kinds { registries.append(try await Registry.start(kind, setup: setup, daemon: daemon)) }
                try await body(daemon, client, registries)
            } catch {
                for registry in registries { await registry.stop() }
                throw error
            }
            for registry in registries { await registry.stop() }
        }
    }

    /// Runs `command` (through busybox when given: the test images have no applet links).
    static func run(_ client: PodmanClient, _ image: String, _ command: [String]) async throws -> String {
        let command = command.isEmpty ? [] : ["/bin/busybox"] + command
        var options = PodmanClient.CreateOptions()
        options.network = "none"
        let id = try await client.create(image: image, command: command, options: options)
        try await client.start(id)
        _ = try await client.wait(id)
        var lines: [String] = []
        for try await line in client.logs(id) { lines.append(line.msg) }
        try await client.remove(id)
        return lines.joined(separator: "\n")
    }

    static func imageDetails(_ client: PodmanClient, _ reference: String) async throws -> IoPodman.Image {
        try await client.api.getImage(id: reference).image
    }

    @Test func pullByTagByDigestAndShortNameThenAgainWithoutDownloading() async throws {
        try await Self.withRegistries([.plain]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "multi", tag: "v3", layers: 3)
            try await registry.seed("oci:\(layout):v3", as: "multi:v3")

            var logs: [String] = []
            var pulled = ""
            for try await step in client.pull("\(registry.host)/multi:v3") {
                switch step {
                case .log(let line): logs.append(line)
                case .pulled(let id): pulled = id
                }
            }
            #expect(logs.first == "Trying to pull \(registry.host)/multi:v3...\n")
            #expect(logs.filter { $0.hasPrefix("Copying blob sha256:") }.count == 3)
            #expect(logs.contains { $0.hasPrefix("Copying config sha256:") })
            #expect(logs.last == "Writing manifest to image destination\nStoring signatures\n")
            let image = try await Self.imageDetails(client, pulled)
            #expect(image.repoTags == ["\(registry.host)/multi:v3"])
            let digest = try await registry.digest(of: "multi:v3")
            #expect(image.digest == digest, "the stored manifest is the registry's, byte for byte")
            let layers = try Registry.layerDigests(ofLayout: layout)
            #expect(registry.downloads(of: layers, in: "multi") == 3)
            // Each layer is where the container sees it, bottom to top.
            #expect(try await Self.run(client, pulled, ["cat", "/layers/1.txt", "/layers/2.txt", "/layers/3.txt"])
                == "layer 1 arch amd64\nlayer 2 arch amd64\nlayer 3 arch amd64")

            // By digest, and by short name through unqualified-search-registries: the same
            // image, and no layer is downloaded again.
            #expect(try await client.pullImage("\(registry.host)/multi@\(digest)") == pulled)
            #expect(try await client.pullImage("multi:v3") == pulled)
            #expect(registry.downloads(of: layers, in: "multi") == 3)
            #expect(try await Self.imageDetails(client, "\(registry.host)/multi@\(digest)").id == pulled)

            // A name no search registry has: podman's error, naming what was tried.
            do {
                _ = try await client.pullImage("absent:1")
                Issue.record("an absent image was pulled")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.hasPrefix("unable to pull absent:1: "))
                #expect(error.reason.contains("MANIFEST_UNKNOWN") || error.reason.contains("NAME_UNKNOWN"), "\(error.reason)")
            }

            // create pulls what it lacks (podman's --pull missing).
            try await registry.seed("oci:\(layout):v3", as: "other:1")
            #expect(try await Self.run(client, "\(registry.host)/other:1", ["cat", "/layers/2.txt"]) == "layer 2 arch amd64")
        }
    }

    @Test func aManifestListGivesThisMachinesImage() async throws {
        try await Self.withRegistries([.plain]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "index", tag: "multi", layers: 2, platforms: "linux/amd64,linux/arm64")
            try await registry.seed("oci:\(layout):multi", as: "plat:multi", all: true)
            // And the same as a Docker manifest list.
            try await registry.seed("oci:\(layout):multi", as: "plat:docker", all: true, format: "v2s2")
            for tag in ["multi", "docker"] {
                let id = try await client.pullImage("\(registry.host)/plat:\(tag)")
                #expect(try await Self.run(client, id, ["cat", "/layers/2.txt"]) == "layer 2 arch amd64", "\(tag)")
            }
            // Another platform, as podman's --override-arch/--override-variant choose it.
            let arm = try await client.pullImage("\(registry.host)/plat:multi", platform: .init(architecture: "arm64", variant: "v8"))
            let inspected = try JSONSerialization.jsonObject(with: Data(try await client.api.inspectImage(name: arm).image.utf8)) as? [String: Any]
            #expect(inspected?["Architecture"] as? String == "arm64")
            do {
                _ = try await client.pullImage("\(registry.host)/plat:multi", platform: .init(architecture: "s390x"))
                Issue.record("a platform the list does not have was pulled")
            } catch let error as IoPodlink.RegistryError {
                #expect(error.reason.contains("linux/amd64") && error.reason.contains("linux/arm64/v8"), "\(error.reason)")
            }
        }
    }

    @Test func basicAuthOverTLSFromATestCA() async throws {
        try await Self.withRegistries([.basicAuth]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "one", tag: "1", layers: 1)
            try await registry.seed("oci:\(layout):1", as: "private/one:1")
            let reference = "\(registry.host)/private/one:1"

            do {
                _ = try await client.pullImage(reference)
                Issue.record("pulled without credentials")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("podlink login \(registry.host)"), "\(error.reason)")
            }
            do {
                _ = try await client.pullImage(reference, credentials: (Registry.user, "wrong"))
                Issue.record("pulled with a wrong password")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("401") || error.reason.contains("UNAUTHORIZED"), "\(error.reason)")
            }
            let id = try await client.pullImage(reference, credentials: (Registry.user, Registry.password))
            #expect(try await Self.run(client, id, ["cat", "/layers/1.txt"]) == "layer 1 arch amd64")

            // Login checks the password with the registry, then pulls need none.
            await #expect(throws: IoPodlink.RegistryError.self) { try await client.login(registry.host, username: Registry.user, password: "wrong") }
            try await client.login(registry.host, username: Registry.user, password: Registry.password)
            let auth = try String(contentsOfFile: registry.setup.authFile, encoding: .utf8)
            #expect(auth.contains(registry.host))
            try await client.removeImage(id)
            #expect(try await client.pullImage(reference) == id)
            try await client.logout(registry.host)
            try await client.removeImage(id)
            await #expect(throws: IoPodman.ErrorOccurred.self) { _ = try await client.pullImage(reference) }
        }
    }

    @Test func tokenAuthPushAndPullBackAgreeWithSkopeo() async throws {
        try await Self.withRegistries([.tokenAuth]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "base", tag: "1", layers: 2)
            try await registry.seed("oci:\(layout):1", as: "team/base:1")
            let base = try await client.pullImage("\(registry.host)/team/base:1", credentials: (Registry.user, Registry.password))
            let log = try String(contentsOfFile: registry.tokenLog, encoding: .utf8)
            #expect(log.contains("\"auth_header\": true"), "the token was asked for with the credentials: \(log)")

            // A committed image (a new layer, changes) goes up and comes back the same.
            var options = PodmanClient.CreateOptions()
            options.network = "none"
            let container = try await client.create(image: base, command: ["sh", "-c", "echo committed > /made && rm /layers/1.txt"], options: options)
            try await client.start(container)
            _ = try await client.wait(container)
            let committed = try await client.commit(container, as: "localhost/made:1", changes: ["CMD [\"cat\", \"/made\"]", "LABEL stage=test"], author: "podlink")
            try await client.remove(container)
            try await client.login(registry.host, username: Registry.user, password: Registry.password)
            try await client.push("localhost/made:1", to: "\(registry.host)/team/made:1")
            try await client.removeImage("localhost/made:1")
            let back = try await client.pullImage("\(registry.host)/team/made:1")
            #expect(back == committed, "the config, and so the image ID, went and came back unchanged")
            #expect(try await Self.imageDetails(client, back).digest == (try await registry.digest(of: "team/made:1")))
            #expect(try await Self.run(client, back, ["sh", "-c", "cat /made; ls /layers"]) == "committed\n2.txt")
            let history = try await client.history(back)
            #expect(history.count == 3)
            #expect(history.first?.id == back && history.first?.createdBy == "/bin/sh")
        }
    }

    @Test func aClientCertificateFromCertsDAndAMirror() async throws {
        try await Self.withRegistries([.mutualTLS, .plain]) { daemon, client, registries in
            let (mutual, plain) = (registries[0], registries[1])
            let layout = try await Registry.ociLayout(name: "one", tag: "1", layers: 1)
            try await mutual.seed("oci:\(layout):1", as: "one:1")
            // Without its client certificate the registry ends the handshake.
            await #expect(throws: IoPodman.ErrorOccurred.self) { _ = try await client.pullImage("\(mutual.host)/one:1") }
            try mutual.installClientCertificate()
            let id = try await client.pullImage("\(mutual.host)/one:1")
            #expect(try await Self.run(client, id, ["cat", "/layers/1.txt"]) == "layer 1 arch amd64")

            // registries.conf sends mirrored.invalid to its mirror, a path of the plain
            // registry; the image keeps the name asked for.
            try await plain.seed("oci:\(layout):1", as: "mirror/team/one:1")
            let mirrored = try await client.pullImage("mirrored.invalid/team/one:1")
            #expect(mirrored == id, "the same image")
            #expect(try await Self.imageDetails(client, mirrored).repoTags.contains("mirrored.invalid/team/one:1"))
        }
    }

    @Test func plainHTTPOnlyWhereRegistriesConfAllowsIt() async throws {
        try await Self.withRegistries([.plain, .unlisted]) { daemon, client, registries in
            let (listed, unlisted) = (registries[0], registries[1])
            let layout = try await Registry.ociLayout(name: "one", tag: "1", layers: 1)
            try await listed.seed("oci:\(layout):1", as: "one:1")
            try await unlisted.seed("oci:\(layout):1", as: "one:1")
            _ = try await client.pullImage("\(listed.host)/one:1")
            do {
                _ = try await client.pullImage("\(unlisted.host)/one:1")
                Issue.record("pulled over plain HTTP from a registry registries.conf does not mark insecure")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("insecure = true"), "\(error.reason)")
            }
        }
    }

    @Test func policyRejectsAndSignaturesAreNotFaked() async throws {
        try await Self.withRegistries([.plain]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "one", tag: "1", layers: 1)
            try await registry.seed("oci:\(layout):1", as: "one:1")
            try await registry.seed("oci:\(layout):1", as: "signed/one:1")
            try """
                {"default": [{"type": "reject"}],
                 "transports": {"docker": {
                    "\(registry.host)/one": [{"type": "insecureAcceptAnything"}],
                    "\(registry.host)/signed": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/nonexistent"}]}}}
                """.write(toFile: daemon.root + "/policy.json", atomically: true, encoding: .utf8)
            let config = try String(contentsOfFile: daemon.configFile, encoding: .utf8)
            try (config + "signature_policy_path = \"\(daemon.root)/policy.json\"\n").write(toFile: daemon.configFile, atomically: true, encoding: .utf8)
            await daemon.stop()
            try await daemon.start()
            let client = try await daemon.client()
            _ = try await client.pullImage("\(registry.host)/one:1")
            for (name, words) in [("signed/one:1", "does not verify signatures"), ("elsewhere:1", "rejects")] {
                do {
                    _ = try await client.pullImage("\(registry.host)/\(name)")
                    Issue.record("\(name) was pulled against the policy")
                } catch let error as IoPodman.ErrorOccurred {
                    #expect(error.reason.contains(words), "\(error.reason)")
                }
            }
        }
    }

    @Test func aWrongBlobIsRefusedAndLeavesNothing() async throws {
        try await Self.withRegistries([.plain]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "one", tag: "1", layers: 2)
            try await registry.seed("oci:\(layout):1", as: "one:1")
            // Corrupt the second layer's blob in the registry's storage, keeping its size.
            let layer = try Registry.layerDigests(ofLayout: layout)[1].dropFirst("sha256:".count)
            let data = "\(registry.storage)/docker/registry/v2/blobs/sha256/\(layer.prefix(2))/\(layer)/data"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
            bytes[bytes.count / 2] ^= 0xff
            try bytes.write(to: URL(fileURLWithPath: data))

            do {
                _ = try await client.pullImage("\(registry.host)/one:1")
                Issue.record("a corrupt blob was accepted")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("sha256:\(layer)") && error.reason.contains("digest"), "\(error.reason)")
            }
            #expect(try await client.images().map(\.repoTags).contains(["\(registry.host)/one:1"]) == false)
            #expect(Self.storeWork(daemon).isEmpty, "work left: \(Self.storeWork(daemon))")
        }
    }

    /// What is in the image store's work directory (interrupted and failed operations).
    static func storeWork(_ daemon: Daemon) -> [String] {
        let work = daemon.staticDir + "/storage/tmp"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: work) else { return ["(\(work) is missing)"] }
        return entries.sorted()
    }

    @Test func aFullDiskFailsThePullCleanlyAndSaysWhatToDo() async throws {
        try await Self.withRegistries([.plain]) { daemon, _, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "big", tag: "1", layers: 3, padding: 24 << 20)
            try await registry.seed("oci:\(layout):1", as: "big:1")
            // The store on a 32 MiB file system: the first layer does not fit.
            await daemon.stop()
            let storage = daemon.staticDir + "/storage"
            let mounted = try await Tool.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", storage])
            try #require(mounted.status == 0, "\(mounted)")
            do {
                try await daemon.start()
                let client = try await daemon.client()
                do {
                    _ = try await client.pullImage("\(registry.host)/big:1")
                    Issue.record("a 72 MiB image fitted in 32 MiB")
                } catch let error as IoPodman.ErrorOccurred {
                    #expect(error.reason.contains("No space left on device") && error.reason.contains("free space"), "\(error.reason)")
                }
                #expect(try await client.images().isEmpty)
                #expect(Self.storeWork(daemon).isEmpty, "\(Self.storeWork(daemon))")
                await client.close()
            } catch {
                await daemon.stop()
                _ = try? await Tool.run(["umount", "-l", storage])
                throw error
            }
            await daemon.stop()
            _ = try await Tool.run(["umount", "-l", storage])
        }
    }

    @Test func aDaemonKilledMidPullLeavesNoHalfImageAndTheRetryWorks() async throws {
        try await Self.withRegistries([.plain]) { daemon, client, registries in
            let registry = registries[0]
            // Big enough that the pull is still downloading when it is killed.
            let layout = try await Registry.ociLayout(name: "big", tag: "1", layers: 3, padding: 24 << 20)
            try await registry.seed("oci:\(layout):1", as: "big:1")
            let puller = try await daemon.client()
            for try await step in puller.pull("\(registry.host)/big:1") {
                if case .log(let line) = step, line.hasPrefix("Copying blob") { break }
            }
            await daemon.crash()
            try await daemon.start()
            let client = try await daemon.client()
            #expect(try await client.images().allSatisfy { !$0.repoTags.contains("\(registry.host)/big:1") })
            #expect(Self.storeWork(daemon).isEmpty, "the killed pull's work is still there: \(Self.storeWork(daemon))")
            let id = try await client.pullImage("\(registry.host)/big:1")
            #expect(try await Self.run(client, id, ["cat", "/layers/3.txt"]) == "layer 3 arch amd64")
        }
    }

    @Test func aClientThatHangsUpMidPullStallsNothing() async throws {
        try await Self.withRegistries([.plain]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "big", tag: "1", layers: 3, padding: 24 << 20)
            try await registry.seed("oci:\(layout):1", as: "big:1")
            let leaving = try await daemon.client()
            for try await step in leaving.pull("\(registry.host)/big:1") {
                if case .log(let line) = step, line.hasPrefix("Copying blob") { break }
            }
            await leaving.close()
            for _ in 0..<8 {
                let started = ContinuousClock.now
                let probe = try await daemon.client()
                _ = try await probe.api.getVersion()
                await probe.close()
                #expect(ContinuousClock.now - started < .seconds(4), "a new connection waited \(ContinuousClock.now - started)")
            }
            // Settled: the pull finished or was rolled back; never half an image or its work.
            let deadline = ContinuousClock.now + .seconds(30)
            while !Self.storeWork(daemon).isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(Self.storeWork(daemon).isEmpty)
            if let image = try await client.images().first(where: { $0.repoTags.contains("\(registry.host)/big:1") }) {
                #expect(try await Self.run(client, image.id, ["cat", "/layers/3.txt"]) == "layer 3 arch amd64")
            }
            let id = try await client.pullImage("\(registry.host)/big:1")
            #expect(try await Self.run(client, id, ["cat", "/layers/1.txt"]) == "layer 1 arch amd64")
        }
    }

    @Test func searchListsTheCatalogOfTheSearchRegistries() async throws {
        try await Self.withRegistries([.plain]) { daemon, client, registries in
            let registry = registries[0]
            let layout = try await Registry.ociLayout(name: "one", tag: "1", layers: 1)
            for name in ["web/nginx-like:1", "web/other:1", "db/store:1"] {
                try await registry.seed("oci:\(layout):1", as: name)
            }
            let found = try await client.search("web/")
            #expect(found.map(\.name).sorted() == ["\(registry.host)/web/nginx-like", "\(registry.host)/web/other"])
            #expect(found.allSatisfy { $0.registry == registry.host })
            #expect(try await client.search("\(registry.host)/store").map(\.name) == ["\(registry.host)/db/store"])
            #expect(try await client.search("web/", limit: 1).count == 1)
        }
    }
}

/// podman 4.3 reads what Podlink saves, and Podlink loads what podman saves.
@Suite(.timeLimit(.minutes(5)))
struct ImageArchiveTests {
    static var podmanAvailable: Bool { Environment.require(Environment.executable("podman") != nil, "podman 4.3 (Debian's podman)") }

    @Test(arguments: ["docker-archive", "oci-archive"])
    func podmanLoadsWhatPodlinkSavesAndBack(_ format: String) async throws {
        guard Daemon.available, Self.podmanAvailable else { return }
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.network = "none"
            let container = try await client.create(image: "busybox", command: ["sh", "-c", "echo saved > /saved"], options: options)
            try await client.start(container)
            _ = try await client.wait(container)
            let tag = "localhost/podlink-archive-\(format):\(getpid())"
            let id = try await client.commit(container, as: tag, changes: ["CMD [\"cat\", \"/saved\"]"])
            try await client.remove(container)
            let archive = daemon.root + "/saved-\(format).tar"
            try await client.save(tag, to: archive, format: format)

            let loaded = try await Tool.run(["podman", "load", "-i", archive])
            #expect(loaded.status == 0, "podman load: \(loaded)")
            let ran = try await Tool.run(["podman", "run", "--rm", "--network=none", tag])
            #expect(ran.status == 0 && ran.stdout == "saved\n", "podman run: \(ran)")
            let inspected = try await Tool.run(["podman", "image", "inspect", "--format", "{{.Id}}", tag])
            #expect(inspected.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == id, "the same config, the same ID")

            // And back: podman's own archive of it loads here.
            let fromPodman = daemon.root + "/podman-\(format).tar"
            let saved = try await Tool.run(["podman", "save", "--format", format, "-o", fromPodman, tag])
            #expect(saved.status == 0, "podman save: \(saved)")
            try await client.removeImage(tag)
            #expect(try await client.loadImage(archive: fromPodman).contains(id))
            #expect(try await RegistryTests.run(client, id, []) == "saved")
            _ = try await Tool.run(["podman", "rmi", "-f", tag])
        }
    }

    @Test func exportIsTheContainersFileSystem() async throws {
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.network = "none"
            let container = try await client.create(image: "busybox", command: ["sh", "-c", "echo exported > /marker"], options: options)
            try await client.start(container)
            _ = try await client.wait(container)
            let archive = daemon.root + "/export.tar"
            try await client.export(container, to: archive)
            let listing = try await Tool.run(["tar", "-tf", archive])
            #expect(listing.stdout.split(separator: "\n").contains("./marker"))
            #expect(listing.stdout.split(separator: "\n").contains("./bin/busybox"))
            let content = try await Tool.run(["tar", "-xOf", archive, "./marker"])
            #expect(content.stdout == "exported\n")
            try await client.remove(container)
        }
    }
}
