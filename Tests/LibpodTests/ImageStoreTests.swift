import Crypto
import Foundation
import Glibc
import Libpod
import PodlinkTestSupport
import Testing

@Suite("ImageStoreTests")
struct ImageStoreTests {
    // MARK: - Import

    @Test func importsPlainAndGzipTarballsAsOneSharedLayer() async throws {
        try await withStore { store, scratch in
            let plain = try await TestImages.busyboxRootfsTarball(in: scratch.root, gzip: false)
            let gzipped = try await gzip(plain)
            let image = try await store.importRootfs(tarball: plain, reference: "busybox")
            #expect(image.names == ["localhost/busybox:latest"])
            #expect(image.id.count == 64)
            #expect(image.layers == ["sha256:" + sha256Hex(try bytes(plain))], "the diffID is the digest of the tar stream")
            #expect(image.digest.hasPrefix("sha256:"))
            #expect(image.config.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
            #expect(image.size >= Int64(try bytes(TestImages.busybox).count))
            #expect(abs(image.created.timeIntervalSinceNow) < 60)

            let fromGzip = try await store.importRootfs(
                tarball: gzipped, reference: "quay.io/test/bb:1",
                config: ImageConfigOverrides(
                    env: ["PATH=/bin", "FOO=bar"], cmd: ["/bin/sh", "-c", "echo hi"], workingDir: "/tmp", user: "nobody",
                    labels: ["a": "b"], stopSignal: "SIGINT", exposedPorts: ["80", "53/udp"]))
            #expect(fromGzip.names == ["quay.io/test/bb:1"])
            #expect(fromGzip.layers == image.layers, "the gzip stream decompresses to the same layer")
            #expect(fromGzip.id != image.id)
            #expect(fromGzip.config.env == ["PATH=/bin", "FOO=bar"])
            #expect(fromGzip.config.cmd == ["/bin/sh", "-c", "echo hi"])
            #expect(fromGzip.config.workingDir == "/tmp")
            #expect(fromGzip.config.user == "nobody")
            #expect(fromGzip.config.labels == ["a": "b"])
            #expect(fromGzip.config.stopSignal == "SIGINT")
            #expect(fromGzip.config.exposedPorts == ["53/udp", "80/tcp"])

            let directories = try store.layerDirectories(of: image)
            #expect(directories.count == 1)
            #expect(FileManager.default.isExecutableFile(atPath: directories[0] + "/bin/busybox"))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directories[0] + "/bin/sh") == "busybox")
            #expect(try store.layerDirectories(of: fromGzip) == directories)
            #expect(try entries(scratch.root + "/storage/layers").count == 1, "one directory for the shared layer")
            #expect(try store.images().map(\.id) == [image.id, fromGzip.id])
            #expect(try store.image(image.id) == image)

            // A second store on the same root (another process) sees the same images.
            let other = try ImageStore(root: scratch.root + "/storage")
            #expect(try other.images() == store.images())
        }
    }

    /// The layer compressions registries serve (and docker-archives may hold): each
    /// decompresses to the same layer, and the tar is kept as it came, with its type.
    @Test(arguments: ["gzip", "zstd", "xz", "bzip2"])
    func everyLayerCompressionGivesTheSameLayer(_ compressor: String) async throws {
        guard Environment.require(Environment.executable(compressor) != nil, compressor) else { return }
        try await withStore { store, scratch in
            let plain = try await TestImages.busyboxRootfsTarball(in: scratch.root, gzip: false)
            let compressed = plain + "." + compressor
            let result = try await Tool.run(["/bin/sh", "-c", "\"$1\" -c \"$0\" > \"$2\"", plain, compressor, compressed])
            try #require(result.status == 0, "\(result)")
            let image = try await store.importRootfs(tarball: compressed, reference: "busybox-\(compressor)")
            #expect(image.layers == ["sha256:" + sha256Hex(try bytes(plain))])
            let directories = try store.layerDirectories(of: image)
            #expect(FileManager.default.isExecutableFile(atPath: directories[0] + "/bin/busybox"))
            // Saved, the layer goes out uncompressed into a docker-archive, matching the config.
            let archive = scratch.root + "/saved-\(compressor).tar"
            try await store.save(image.id, format: .dockerArchive, to: archive)
            let other = try ImageStore(root: scratch.root + "/other-\(compressor)")
            #expect(try await other.load(path: archive).map(\.id) == [image.id])
        }
    }

    @Test func importRefusesWhatIsNotATarball() async throws {
        try await withStore { store, scratch in
            let junk = scratch.write("junk.tar", String(repeating: "not a tar archive\n", count: 100))
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: junk, reference: "junk") }
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: scratch.root + "/none", reference: "x") }
            let tarball = try writeTar(scratch.root + "/ok.tar") { $0.file("hello", "hi") }
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: tarball, reference: "Bad/Name") }
            #expect(try store.images().isEmpty)
            #expect(try entries(scratch.root + "/storage/layers").isEmpty)
            #expect(try entries(scratch.root + "/storage/tmp").isEmpty, "failed imports leave no work behind")
        }
    }

    // MARK: - Load

    @Test func loadsADockerArchive() async throws {
        try await withStore { store, scratch in
            let base = try await TestImages.busyboxRootfsTarball(in: scratch.root, gzip: false)
            let top = try writeTar(scratch.root + "/top.tar") { $0.file("hello.txt", "hello\n") }
            let archive = try await dockerArchive(
                layers: [base, top], repoTags: ["busybox:latest", "example.com:5000/team/tool:1.2"], in: scratch.root)
            let images = try await store.load(path: archive.path)
            #expect(images.count == 1)
            let image = try #require(images.first)
            #expect(image.id == archive.configHex)
            #expect(image.names == ["docker.io/library/busybox:latest", "example.com:5000/team/tool:1.2"])
            #expect(image.layers == archive.diffIDs)
            #expect(image.config.cmd == ["/bin/sh"])
            #expect(image.created == Date(timeIntervalSince1970: 1_704_164_645))
            #expect(try store.image("busybox").id == image.id, "a short name falls back to docker.io/library")
            let directories = try store.layerDirectories(of: image)
            #expect(directories.count == 2)
            #expect(FileManager.default.fileExists(atPath: directories[0] + "/hello.txt"), "the top layer comes first")
            #expect(FileManager.default.fileExists(atPath: directories[1] + "/bin/busybox"))

            // Loading it again changes nothing.
            #expect(try await store.load(path: archive.path) == images)
            #expect(try store.images().count == 1)
        }
    }

    @Test func loadsAnOCIArchiveAndAnOCILayoutDirectory() async throws {
        try await withStore { store, scratch in
            let base = try await TestImages.busyboxRootfsTarball(in: scratch.root, gzip: false)
            let top = try writeTar(scratch.root + "/top.tar") { $0.file("etc/motd", "welcome\n") }
            let layout = try await ociLayout(layers: [base, top], gzipLayers: true, refName: "mybox:1.0", in: scratch.root)

            let fromDirectory = try await store.load(path: layout.path)
            let image = try #require(fromDirectory.first)
            #expect(fromDirectory.count == 1)
            #expect(image.id == layout.configHex)
            #expect(image.digest == layout.manifestDigest)
            #expect(image.names == ["localhost/mybox:1.0"])
            #expect(image.layers == layout.diffIDs)
            #expect(try store.image("mybox:1.0").id == image.id)

            let archive = scratch.root + "/oci.tar"
            let packed = try await Tool.run(["/bin/tar", "-cf", archive, "-C", layout.path, "."])
            #expect(packed.status == 0, "\(packed)")
            try await store.remove(image.id, force: false, inUse: false)
            #expect(try store.images().isEmpty)
            let fromArchive = try await store.load(path: archive)
            #expect(fromArchive == fromDirectory)
            #expect(try store.layerDirectories(of: fromArchive[0]).count == 2)
            #expect(FileManager.default.fileExists(atPath: try store.layerDirectories(of: fromArchive[0])[0] + "/etc/motd"))
        }
    }

    @Test func aCorruptedBlobIsRefusedAndLeavesNothing() async throws {
        try await withStore { store, scratch in
            let base = try writeTar(scratch.root + "/base.tar") { $0.file("bin/tool", String(repeating: "x", count: 5000)) }
            let top = try writeTar(scratch.root + "/top.tar") { $0.file("data", "payload") }
            let layout = try await ociLayout(layers: [base, top], gzipLayers: true, refName: "broken", in: scratch.root)
            // Change one byte of the top layer's compressed blob; its descriptor keeps the
            // old digest. (Compressed, so the blob digest differs from the diffID and the
            // error shows which check caught it.)
            let blob = layout.path + "/blobs/sha256/" + layout.layerDigests[1].dropFirst(7)
            var content = try bytes(blob)
            content[content.count / 2] ^= 0x01
            try Data(content).write(to: URL(fileURLWithPath: blob))

            do {
                _ = try await store.load(path: layout.path)
                Issue.record("a corrupted blob was accepted")
            } catch let LibpodError.digestMismatch(name, expected, found) {
                #expect(name.contains(layout.layerDigests[1]), "the error names the blob: \(name)")
                #expect(expected == layout.layerDigests[1])
                #expect(found == "sha256:" + sha256Hex(content))
            }
            try expectEmpty(store, scratch)

            // A layer whose content differs from the config's diff_id.
            let lying = try await dockerArchive(
                layers: [base, top], repoTags: ["liar:1"], in: scratch.root,
                diffIDOverride: [1: "sha256:" + String(repeating: "ab", count: 32)])
            do {
                _ = try await store.load(path: lying.path)
                Issue.record("a layer that does not match its diff_id was accepted")
            } catch let LibpodError.digestMismatch(name, expected, found) {
                #expect(name.contains("layer1/layer.tar"), "the error names the layer: \(name)")
                #expect(expected == "sha256:" + String(repeating: "ab", count: 32))
                #expect(found == "sha256:" + sha256Hex(try bytes(top)))
            }
            try expectEmpty(store, scratch)
        }
    }

    // MARK: - Names, removal, prune

    @Test func tagUntagRemoveAndPrune() async throws {
        try await withStore { store, scratch in
            let first = try writeTar(scratch.root + "/a.tar") { $0.file("a", "a") }
            let second = try writeTar(scratch.root + "/b.tar") { $0.file("b", "b") }
            let image = try await store.importRootfs(tarball: first, reference: "app")
            let tagged = try await store.tag("app", as: "other:2")
            #expect(tagged.names == ["localhost/app:latest", "localhost/other:2"])
            #expect(try store.image("other:2").id == image.id)
            #expect(try store.exists("localhost/other:2"))

            // A name moves from the image that had it.
            let newer = try await store.importRootfs(tarball: second, reference: "newer")
            try await store.tag(newer.id, as: "other:2")
            #expect(try store.image(image.id).names == ["localhost/app:latest"])
            #expect(try store.image("other:2").id == newer.id)

            try await store.untag(newer.id, name: "other:2")
            #expect(try store.image(newer.id).names == ["localhost/newer:latest"])
            #expect(try !store.exists("other:2"))
            await #expect(throws: LibpodError.self) { try await store.untag(newer.id, name: "never-had-it") }

            // rmi by one of several names only untags.
            try await store.tag("app", as: "app:v1")
            let untagged = try await store.remove("app:v1", force: false, inUse: false)
            #expect(untagged == ImageRemoval(untagged: ["localhost/app:v1"], deleted: nil, deletedLayers: []))
            #expect(try store.exists(image.id))

            // In use: refused unless forced.
            await #expect(throws: LibpodError.imageInUse("app")) { try await store.remove("app", force: false, inUse: true) }
            let removed = try await store.remove("app", force: true, inUse: true)
            #expect(removed.deleted == image.id)
            #expect(removed.untagged == ["localhost/app:latest"])
            #expect(removed.deletedLayers == image.layers)
            #expect(try !store.exists(image.id))
            #expect(!FileManager.default.fileExists(atPath: scratch.root + "/storage/images/" + image.id))
            #expect(!FileManager.default.fileExists(atPath: layerPath(scratch, image.layers[0])))
            #expect(FileManager.default.fileExists(atPath: layerPath(scratch, newer.layers[0])))
            await #expect(throws: LibpodError.imageNotFound("app")) { try await store.remove("app", force: false, inUse: false) }

            // An ID naming an image with several names needs force.
            try await store.tag(newer.id, as: "alias")
            await #expect(throws: LibpodError.self) { try await store.remove(newer.id, force: false, inUse: false) }

            // Prune: dangling images and the layers nothing uses.
            let dangling = try await store.importRootfs(tarball: first, reference: "")
            #expect(dangling.names.isEmpty)
            let kept = try await store.importRootfs(tarball: try writeTar(scratch.root + "/c.tar") { $0.file("c", "c") }, reference: "")
            try await store.untag(newer.id, name: "alias")
            try await store.untag(newer.id, name: "newer")
            let pruned = try await store.prune(keeping: [kept.id])
            #expect(Set(pruned) == [dangling.id, newer.id])
            #expect(try store.images().map(\.id) == [kept.id])
            #expect(try entries(scratch.root + "/storage/layers") == [String(kept.layers[0].dropFirst(7))])
            #expect(try await store.prune() == [kept.id])
            #expect(try entries(scratch.root + "/storage/layers").isEmpty)
            #expect(try entries(scratch.root + "/storage/images").isEmpty)
        }
    }

    @Test func resolvesIDsPrefixesAndShortNames() async throws {
        try await withStore { store, scratch in
            let tarball = try writeTar(scratch.root + "/t.tar") { $0.file("f", "f") }
            let hub = try await store.importRootfs(tarball: tarball, reference: "docker.io/library/alpine")
            #expect(hub.names == ["docker.io/library/alpine:latest"])
            #expect(try store.image("alpine").id == hub.id, "no local alpine: Docker Hub's")
            #expect(try store.image("docker.io/alpine").id == hub.id)

            let local = try await store.importRootfs(tarball: tarball, reference: "alpine")
            #expect(local.names == ["localhost/alpine:latest"])
            #expect(try store.image("alpine").id == local.id, "a local image comes first")
            #expect(try store.image("alpine:latest").id == local.id)
            #expect(try store.image("docker.io/library/alpine:latest").id == hub.id)
            #expect(try store.image("localhost/alpine@" + local.digest).id == local.id)
            #expect(try store.image(local.id).id == local.id)
            #expect(try store.image("sha256:" + local.id).id == local.id)
            #expect(try store.image(String(local.id.prefix(12))).id == local.id)
            #expect(throws: LibpodError.imageNotFound("alpine:3")) { try store.image("alpine:3") }
            #expect(throws: LibpodError.imageNotFound("nosuch")) { try store.image("nosuch") }

            // Import until two IDs share a first digit (17 images guarantee it).
            var byFirst: [Character: String] = [:]
            var pair: (String, String)?
            for _ in 0..<17 where pair == nil {
                let id = try await store.importRootfs(tarball: tarball, reference: "").id
                if let other = byFirst[id.first!] { pair = (other, id) } else { byFirst[id.first!] = id }
            }
            let (one, two) = try #require(pair)
            let prefix = String(one.prefix(1))
            do {
                _ = try store.image(prefix)
                Issue.record("an ambiguous prefix resolved")
            } catch let LibpodError.ambiguousImageID(given, matches) {
                #expect(given == prefix)
                #expect(matches.contains(one) && matches.contains(two))
            }
            #expect(try store.image(one).id == one)
        }
    }

    @Test func nonASCIINamesSurvive() async throws {
        try await withStore { store, scratch in
            let tarball = try writeTar(scratch.root + "/utf8.tar") {
                $0.file("caf\u{e9}/\u{1f600}.txt", "ustar bytes")
                $0.file("placeholder", "pax path", pax: ["path": "na\u{ef}ve-\u{65e5}\u{672c}.txt"])
            }
            let image = try await store.importRootfs(tarball: tarball, reference: "utf8")
            let layer = try store.layerDirectories(of: image)[0]
            #expect(try String(contentsOfFile: layer + "/caf\u{e9}/\u{1f600}.txt", encoding: .utf8) == "ustar bytes")
            #expect(try String(contentsOfFile: layer + "/na\u{ef}ve-\u{65e5}\u{672c}.txt", encoding: .utf8) == "pax path")
        }
    }

    // MARK: - Hostile archives

    @Test func entriesThatClimbOutAreRefused() async throws {
        try await withStore { store, scratch in
            let escape = "/tmp/podlink-escape-\(UInt32.random(in: 0 ... .max))"
            let climbing = try writeTar(scratch.root + "/climb.tar") {
                $0.file("ok", "fine")
                $0.file(String(repeating: "../", count: 20) + escape.dropFirst(), "escaped")
            }
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: climbing, reference: "climb") }
            #expect(!FileManager.default.fileExists(atPath: escape))

            let relative = try writeTar(scratch.root + "/relative.tar") { $0.file("../evil", "escaped") }
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: relative, reference: "rel") }
            #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/../evil"))
            try expectEmpty(store, scratch)
        }
    }

    @Test func absolutePathsStayInsideTheLayer() async throws {
        try await withStore { store, scratch in
            let outside = "/tmp/podlink-absolute-\(UInt32.random(in: 0 ... .max))"
            let tarball = try writeTar(scratch.root + "/abs.tar") { $0.file(outside, "inside") }
            let image = try await store.importRootfs(tarball: tarball, reference: "abs")
            #expect(!FileManager.default.fileExists(atPath: outside))
            let layer = try store.layerDirectories(of: image)[0]
            #expect(try String(contentsOfFile: layer + outside, encoding: .utf8) == "inside")
        }
    }

    @Test func symlinksCannotCarryWritesOutside() async throws {
        try await withStore { store, scratch in
            let outside = scratch.root + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            // Writing through a symlink the archive planted is refused; an entry that
            // replaces the symlink itself (a directory named like it) is fine.
            let refused: [(String, (inout TarWriter) -> Void)] = [
                ("through a symlink to /", { $0.symlink("link", to: "/"); $0.file("link" + outside + "/x", "pwned") }),
                ("through a symlink to a directory", { $0.symlink("link", to: outside); $0.file("link/x", "pwned") }),
                ("through a relative symlink", { $0.symlink("up", to: "../../../../../../../../.." + outside); $0.file("up/x", "pwned") }),
                ("through a symlink to a symlink", { $0.symlink("a", to: outside); $0.symlink("b", to: "a"); $0.file("b/x", "pwned") }),
            ]
            for (number, (what, build)) in refused.enumerated() {
                let tarball = try writeTar("\(scratch.root)/symlink-\(number).tar", build)
                await #expect(throws: LibpodError.self, "\(what)") {
                    try await store.importRootfs(tarball: tarball, reference: "sym\(number)")
                }
                #expect(try entries(outside).isEmpty, "\(what): nothing may appear in \(outside)")
            }
            try expectEmpty(store, scratch)

            let replaced = try writeTar(scratch.root + "/replaced.tar") {
                $0.symlink("d", to: outside)
                $0.directory("d")
                $0.file("d/x", "inside")
            }
            let image = try await store.importRootfs(tarball: replaced, reference: "replaced")
            let layer = try store.layerDirectories(of: image)[0]
            var info = stat()
            #expect(lstat(layer + "/d", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
            #expect(try String(contentsOfFile: layer + "/d/x", encoding: .utf8) == "inside")
            #expect(try entries(outside).isEmpty)
        }
    }

    @Test func hardLinksCannotReachOutside() async throws {
        try await withStore { store, scratch in
            let secret = scratch.write("outside/secret", "secret")
            // A hard link entry with data writes into its target: it must never be a host
            // file. Link targets are taken inside the layer, where these do not exist.
            let withData = try writeTar(scratch.root + "/hard.tar") { $0.hardlink("passwd", to: secret, content: "pwned") }
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: withData, reference: "hard") }
            #expect(try String(contentsOfFile: secret, encoding: .utf8) == "secret")
            var info = stat()
            #expect(stat(secret, &info) == 0 && info.st_nlink == 1, "no link to the host file was made")

            let passwdBefore = try bytes("/etc/passwd")
            var passwdInfo = stat()
            stat("/etc/passwd", &passwdInfo)
            let toPasswd = try writeTar(scratch.root + "/passwd.tar") { $0.hardlink("p", to: "/etc/passwd") }
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: toPasswd, reference: "passwd") }
            var after = stat()
            stat("/etc/passwd", &after)
            #expect(after.st_nlink == passwdInfo.st_nlink)
            #expect(try bytes("/etc/passwd") == passwdBefore)

            let climbing = try writeTar(scratch.root + "/hardclimb.tar") { $0.hardlink("q", to: "../../../outside/secret") }
            await #expect(throws: LibpodError.self) { try await store.importRootfs(tarball: climbing, reference: "climb") }
            #expect(stat(secret, &info) == 0 && info.st_nlink == 1)

            // A hard link to a file of the same layer is kept.
            let sameLayer = try writeTar(scratch.root + "/internal.tar") {
                $0.file("bin/tool", "tool")
                $0.hardlink("bin/alias", to: "/bin/tool")
            }
            let image = try await store.importRootfs(tarball: sameLayer, reference: "internal")
            let layer = try store.layerDirectories(of: image)[0]
            var tool = stat()
            var alias = stat()
            #expect(lstat(layer + "/bin/tool", &tool) == 0 && lstat(layer + "/bin/alias", &alias) == 0)
            #expect(tool.st_ino == alias.st_ino)
        }
    }

    // MARK: - Whiteouts

    @Test func whiteoutsBecomeOverlayFormsAndTheVfsCopyAppliesThem() async throws {
        guard Environment.require(geteuid() == 0, "root (whiteout device nodes and trusted.* xattrs need it)") else { return }
        try await withStore { store, scratch in
            let lower = try writeTar(scratch.root + "/lower.tar") {
                $0.directory("etc")
                $0.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
                $0.file("etc/hosts", "127.0.0.1 localhost\n")
                $0.directory("opaque")
                $0.file("opaque/old", "old")
                $0.file("gone", "bye")
                $0.file("keep", "kept")
                $0.symlink("link", to: "/etc/hosts")
            }
            let upper = try writeTar(scratch.root + "/upper.tar") {
                $0.directory("etc")
                $0.file("etc/.wh.passwd", "")
                $0.directory("opaque")
                $0.file("opaque/.wh..wh..opq", "")
                $0.file("opaque/new", "new")
                $0.file(".wh.gone", "")
                $0.file("keep2", "kept too", pax: ["SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.user.note": "fine"])
                $0.device("dev/null", major: 1, minor: 3)
            }
            let archive = try await dockerArchive(layers: [lower, upper], repoTags: ["whiteouts:1"], in: scratch.root)
            let image = try #require(try await store.load(path: archive.path).first)
            let directories = try store.layerDirectories(of: image)
            let top = directories[0]

            for path in ["etc/passwd", "gone"] {
                var info = stat()
                #expect(lstat(top + "/" + path, &info) == 0, "\(path) is a whiteout device")
                #expect(info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0, "\(path) is a 0/0 character device")
            }
            #expect(try await xattr(top + "/opaque", "trusted.overlay.opaque") == "y")
            #expect(try await xattr(top + "/keep2", "trusted.overlay.opaque") == nil, "a layer cannot set overlay's attributes")
            #expect(try await xattr(top + "/keep2", "user.note") == "fine")
            var null = stat()
            #expect(lstat(top + "/dev/null", &null) == 0 && null.st_mode & S_IFMT == S_IFCHR && null.st_rdev != 0)
            let names = try FileManager.default.subpathsOfDirectory(atPath: top)
            #expect(!names.contains { $0.split(separator: "/").last?.hasPrefix(".wh.") == true }, "no .wh. file is kept: \(names)")

            let rootfs = scratch.root + "/rootfs"
            try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
            try ImageStore.applyLayersByCopy(directories, into: rootfs)
            let result = Set(try FileManager.default.subpathsOfDirectory(atPath: rootfs))
            #expect(result == ["etc", "etc/hosts", "opaque", "opaque/new", "keep", "keep2", "link", "dev", "dev/null"])
            #expect(try String(contentsOfFile: rootfs + "/keep", encoding: .utf8) == "kept")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/link") == "/etc/hosts")
            #expect(try await xattr(rootfs + "/opaque", "trusted.overlay.opaque") == nil)
        }
    }

    @Test func vfsCopyAppliesTextualWhiteoutsToo() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let lower = scratch.root + "/lower"
        let upper = scratch.root + "/upper"
        _ = scratch.write("lower/a", "a")
        _ = scratch.write("lower/dir/old", "old")
        _ = scratch.write("lower/dir/sub/deep", "deep")
        _ = scratch.write("lower/replaced", "file")
        _ = scratch.write("lower/hard1", "shared")
        link(lower + "/hard1", lower + "/hard2")
        _ = scratch.write("upper/.wh.a", "")
        _ = scratch.write("upper/dir/.wh..wh..opq", "")
        _ = scratch.write("upper/dir/new", "new")
        _ = scratch.write("upper/replaced/now-a-dir", "x")
        let target = scratch.root + "/target"
        mkdir(target, 0o755)
        try ImageStore.applyLayersByCopy([upper, lower], into: target)
        let result = Set(try FileManager.default.subpathsOfDirectory(atPath: target))
        #expect(result == ["dir", "dir/new", "replaced", "replaced/now-a-dir", "hard1", "hard2"])
        var one = stat()
        var two = stat()
        #expect(stat(target + "/hard1", &one) == 0 && stat(target + "/hard2", &two) == 0 && one.st_ino == two.st_ino)
    }

    @Test func concurrentImportsIntoOneStoreKeepEveryImage() async throws {
        try await withStore { store, scratch in
            let tarball = try await TestImages.busyboxRootfsTarball(in: scratch.root, gzip: true)
            // Two stores on one root stand for two processes: only the file lock orders them.
            let other = try ImageStore(root: scratch.root + "/storage")
            async let first = store.importRootfs(tarball: tarball, reference: "one")
            async let second = other.importRootfs(tarball: tarball, reference: "two")
            async let third = store.importRootfs(tarball: tarball, reference: "three")
            let images = try await [first, second, third]
            #expect(Set(try store.images().flatMap(\.names)) == ["localhost/one:latest", "localhost/two:latest", "localhost/three:latest"])
            #expect(Set(images.map(\.layers)).count == 1)
            #expect(try entries(scratch.root + "/storage/layers").count == 1)
            #expect(try entries(scratch.root + "/storage/tmp").isEmpty)
        }
    }

    @Test func abandonedWorkIsCleanedOnOpen() async throws {
        try await withStore { _, scratch in
            let leftover = scratch.root + "/storage/tmp/deadbeef"
            try FileManager.default.createDirectory(atPath: leftover + "/layer-0", withIntermediateDirectories: true)
            _ = try ImageStore(root: scratch.root + "/storage")
            #expect(!FileManager.default.fileExists(atPath: leftover))
        }
    }
}

// MARK: - Helpers

private func withStore(_ body: (ImageStore, ScratchDirectories) async throws -> Void) async throws {
    let scratch = ScratchDirectories()
    defer { scratch.remove() }
    let store = try ImageStore(root: scratch.root + "/storage")
    try await body(store, scratch)
}

private func expectEmpty(_ store: ImageStore, _ scratch: ScratchDirectories, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try store.images().isEmpty, sourceLocation: sourceLocation)
    #expect(try entries(scratch.root + "/storage/layers").isEmpty, "no layer left", sourceLocation: sourceLocation)
    #expect(try entries(scratch.root + "/storage/images").isEmpty, "no config left", sourceLocation: sourceLocation)
    #expect(try entries(scratch.root + "/storage/tmp").isEmpty, "no work left", sourceLocation: sourceLocation)
}

private func layerPath(_ scratch: ScratchDirectories, _ diffID: String) -> String {
    scratch.root + "/storage/layers/" + diffID.dropFirst(7)
}

private func entries(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

private func bytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

private func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }.joined()
}

/// An extended attribute's value, nil when it is not set (through python: Swift's Glibc
/// module leaves sys/xattr.h out).
private func xattr(_ path: String, _ name: String) async throws -> String? {
    let script = """
        import os, sys
        try:
            sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
        except OSError:
            sys.exit(3)
        """
    let result = try await Tool.run(["/usr/bin/python3", "-c", script, path, name])
    return result.status == 0 ? result.stdout : nil
}

private func gzip(_ path: String) async throws -> String {
    let result = try await Tool.run(["/bin/sh", "-c", "gzip -n -c \"$0\" > \"$0.gz\"", path])
    guard result.status == 0 else { throw TestFailure("gzip failed: \(result)") }
    return path + ".gz"
}

private func writeTar(_ path: String, _ build: (inout TarWriter) -> Void) throws -> String {
    var writer = TarWriter()
    build(&writer)
    try Data(writer.finished()).write(to: URL(fileURLWithPath: path))
    return path
}

private func json(_ object: Any) throws -> [UInt8] {
    Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

private func writeFile(_ path: String, _ content: [UInt8]) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(content).write(to: URL(fileURLWithPath: path))
}

private func configJSON(diffIDs: [String]) throws -> [UInt8] {
    try json([
        "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
        "config": ["Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]],
        "rootfs": ["type": "layers", "diff_ids": diffIDs],
    ])
}

/// A docker-archive as `docker save` writes it: `<config hex>.json`, `layerN/layer.tar`,
/// manifest.json. `diffIDOverride` puts a wrong diff_id in the config.
private func dockerArchive(layers: [String], repoTags: [String], in dir: String, diffIDOverride: [Int: String] = [:]) async throws
    -> (path: String, configHex: String, diffIDs: [String])
{
    let root = "\(dir)/docker-\(UInt32.random(in: 0 ... .max))"
    var diffIDs: [String] = []
    for (number, layer) in layers.enumerated() {
        let content = try bytes(layer)
        try writeFile("\(root)/layer\(number)/layer.tar", content)
        diffIDs.append(diffIDOverride[number] ?? "sha256:" + sha256Hex(content))
    }
    let config = try configJSON(diffIDs: diffIDs)
    let configHex = sha256Hex(config)
    try writeFile("\(root)/\(configHex).json", config)
    try writeFile(
        root + "/manifest.json",
        try json([["Config": configHex + ".json", "RepoTags": repoTags, "Layers": layers.indices.map { "layer\($0)/layer.tar" }]]))
    let archive = root + ".tar"
    let result = try await Tool.run(["/bin/tar", "-cf", archive, "-C", root, "."])
    guard result.status == 0 else { throw TestFailure("packing the docker-archive failed: \(result)") }
    return (archive, configHex, diffIDs)
}

/// An OCI image layout directory with one image.
private func ociLayout(layers: [String], gzipLayers: Bool, refName: String?, in dir: String) async throws
    -> (path: String, configHex: String, manifestDigest: String, diffIDs: [String], layerDigests: [String])
{
    let root = "\(dir)/oci-\(UInt32.random(in: 0 ... .max))"
    func blob(_ content: [UInt8]) throws -> String {
        let hex = sha256Hex(content)
        try writeFile("\(root)/blobs/sha256/\(hex)", content)
        return "sha256:" + hex
    }
    var diffIDs: [String] = []
    var descriptors: [[String: Any]] = []
    var layerDigests: [String] = []
    for layer in layers {
        diffIDs.append("sha256:" + sha256Hex(try bytes(layer)))
        let content = gzipLayers ? try bytes(try await gzip(layer)) : try bytes(layer)
        let digest = try blob(content)
        layerDigests.append(digest)
        descriptors.append([
            "mediaType": "application/vnd.oci.image.layer.v1.tar" + (gzipLayers ? "+gzip" : ""), "digest": digest,
            "size": content.count,
        ])
    }
    let config = try configJSON(diffIDs: diffIDs)
    let configDigest = try blob(config)
    let manifest = try json([
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": config.count],
        "layers": descriptors,
    ])
    let manifestDigest = try blob(manifest)
    var descriptor: [String: Any] = [
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifest.count,
    ]
    if let refName { descriptor["annotations"] = ["org.opencontainers.image.ref.name": refName] }
    try writeFile(root + "/index.json", try json(["schemaVersion": 2, "manifests": [descriptor]]))
    try writeFile(root + "/oci-layout", try json(["imageLayoutVersion": "1.0.0"]))
    return (root, String(configDigest.dropFirst(7)), manifestDigest, diffIDs, layerDigests)
}

/// Writes ustar archives byte by byte, so tests can make entries no tar tool would
/// (paths with `..`, links out of the tree, pax xattrs).
struct TarWriter {
    private var data: [UInt8] = []

    mutating func file(_ name: String, _ content: String, pax: [String: String] = [:]) {
        if !pax.isEmpty { add(name: "PaxHeader/" + name.suffix(80), type: "x", content: paxRecords(pax)) }
        add(name: name, type: "0", content: Array(content.utf8), mode: 0o644)
    }

    mutating func directory(_ name: String) { add(name: name + "/", type: "5", mode: 0o755) }

    mutating func symlink(_ name: String, to target: String) { add(name: name, type: "2", link: target, mode: 0o777) }

    mutating func hardlink(_ name: String, to target: String, content: String = "") {
        add(name: name, type: "1", content: Array(content.utf8), link: target, mode: 0o644)
    }

    mutating func device(_ name: String, major: Int, minor: Int) {
        add(name: name, type: "3", mode: 0o666, major: major, minor: minor)
    }

    func finished() -> [UInt8] { data + [UInt8](repeating: 0, count: 1024) }

    private func paxRecords(_ records: [String: String]) -> [UInt8] {
        var result: [UInt8] = []
        for (key, value) in records.sorted(by: { $0.key < $1.key }) {
            let body = " \(key)=\(value)\n"
            var length = body.utf8.count + 1
            while String(length).count + body.utf8.count != length { length += 1 }
            result += Array((String(length) + body).utf8)
        }
        return result
    }

    private mutating func add(
        name: String, type: Character, content: [UInt8] = [], link: String = "", mode: Int = 0o644, major: Int = 0, minor: Int = 0
    ) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, _ offset: Int, _ width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: width - 1 - digits.count) + digits, offset, width - 1)
        }
        put(name, 0, 100)
        octal(mode, 100, 8)
        octal(0, 108, 8)
        octal(0, 116, 8)
        octal(content.count, 124, 12)
        octal(1_700_000_000, 136, 12)
        header[156] = type.asciiValue!
        put(link, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        put("root", 265, 32)
        put("root", 297, 32)
        octal(major, 329, 8)
        octal(minor, 337, 8)
        for index in 148..<156 { header[index] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        let checksum = String(sum, radix: 8)
        put(String(repeating: "0", count: 6 - checksum.count) + checksum, 148, 6)
        header[154] = 0
        header[155] = 0x20
        data += header
        data += content
        data += [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    }
}
