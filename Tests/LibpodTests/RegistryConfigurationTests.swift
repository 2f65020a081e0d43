import Foundation
@testable import Libpod
import Testing

/// registries.conf, policy.json, auth files and challenges: the rules a pull follows
/// before it sends a byte.
@Suite struct RegistryConfigurationTests {
    @Test func versionTwoResolvesShortNamesThroughSearchRegistriesAndMirrors() throws {
        let configuration = try RegistriesConfiguration.parse(
            """
            unqualified-search-registries = ["docker.io", "quay.io"]
            [[registry]]
            location = "localhost:5000"
            insecure = true
            [[registry]]
            prefix = "quay.io"
            location = "quay.io"
            [[registry.mirror]]
            location = "mirror.local:5000/quay"
            insecure = true
            [[registry]]
            location = "blocked.example"
            blocked = true
            """, path: "test.conf")
        let sources = try configuration.pullSources(for: "busybox:1.36")
        #expect(sources.map(\.source.description) == [
            "docker.io/library/busybox:1.36", "mirror.local:5000/quay/busybox:1.36", "quay.io/busybox:1.36",
        ])
        #expect(sources.map(\.insecure) == [false, true, false])
        // The image is named after what was asked for, not the mirror it came from.
        #expect(sources[1].name.description == "quay.io/busybox:1.36")
        #expect(try configuration.pullSources(for: "localhost:5000/a/b").map(\.insecure) == [true])
        #expect(configuration.registry(for: "localhost:50001/x") == nil, "a prefix matches whole components only")
        #expect(throws: LibpodError.self) { try configuration.pullSources(for: "blocked.example/x") }
    }

    @Test func versionOneIsReadAndMixingFormatsIsRefused() throws {
        let v1 = try RegistriesConfiguration.parse(
            "[registries.search]\nregistries = ['a.io']\n[registries.insecure]\nregistries = ['b.io']\n[registries.block]\nregistries = ['c.io']\n",
            path: "v1.conf")
        #expect(v1.unqualifiedSearchRegistries == ["a.io"])
        #expect(v1.registry(for: "b.io/x")?.insecure == true)
        #expect(v1.registry(for: "c.io/x")?.blocked == true)
        #expect(throws: LibpodError.self) {
            try RegistriesConfiguration.parse("unqualified-search-registries = ['a.io']\n[registries.search]\nregistries = ['b.io']\n", path: "mixed.conf")
        }
    }

    @Test func aShortNameWithoutSearchRegistriesSaysWhatToDo() throws {
        let empty = RegistriesConfiguration(path: "/etc/containers/registries.conf")
        do {
            _ = try empty.pullSources(for: "busybox")
            Issue.record("a short name resolved without search registries")
        } catch {
            #expect(error.description.contains("unqualified-search-registries"))
            #expect(error.description.contains("docker.io/library/busybox"))
        }
    }

    @Test func policyScopesAndRequirementTypes() throws {
        let policy = try SignaturePolicy.parse(
            Array(
                """
                {"default": [{"type": "reject"}],
                 "transports": {"docker": {
                    "localhost:5000": [{"type": "insecureAcceptAnything"}],
                    "localhost:5000/signed": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k"}]}}}
                """.utf8), path: "policy.json")
        try policy.check(RegistryReference("localhost:5000/any:1"))
        #expect(throws: LibpodError.self) { try policy.check(RegistryReference("localhost:5000/signed/x:1")) }
        #expect(throws: LibpodError.self) { try policy.check(RegistryReference("quay.io/x:1")) }
        #expect(throws: LibpodError.self) { try SignaturePolicy.parse(Array(#"{"default": [{"type": "maybe"}]}"#.utf8), path: "p") }
    }

    @Test func authFilesAreReadInOrderAndWrittenWithoutLosingOtherKeys() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("auth-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = directory + "/auth.json"
        let docker = directory + "/config.json"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try #"{"auths": {"https://index.docker.io/v1/": {"auth": "\#(Data("hub:secret".utf8).base64EncodedString())"}}, "credHelpers": {}}"#
            .write(toFile: docker, atomically: true, encoding: .utf8)
        let files = RegistryAuthFiles(readOrder: [first, docker], writePath: first)
        #expect(try files.credentials(for: "docker.io") == RegistryCredentials(username: "hub", password: "secret"))
        try files.store(RegistryCredentials(username: "me", password: "p:w"), for: "127.0.0.1:5000")
        #expect(try files.credentials(for: "127.0.0.1:5000") == RegistryCredentials(username: "me", password: "p:w"))
        var info = stat()
        stat(first, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try files.remove("127.0.0.1:5000"))
        #expect(try files.credentials(for: "127.0.0.1:5000") == nil)
        #expect(try !files.remove("127.0.0.1:5000"))
    }

    @Test func challengesAreParsedWithQuotedCommas() {
        let (scheme, parameters) = RegistryClient.parseChallenge(
            #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#)
        #expect(scheme == "Bearer")
        #expect(parameters["realm"] == "https://auth.example/token")
        #expect(parameters["service"] == "registry.example")
        #expect(parameters["scope"] == "repository:a/b:pull,push")
        #expect(RegistryClient.parseChallenge(#"Basic realm="Registry Realm""#).scheme == "Basic")
    }

    @Test func manifestListsPickThisPlatformOrSayWhatTheyHave() throws {
        let index = OCIIndex(schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [
            OCIDescriptor(mediaType: MediaType.ociManifest, digest: "sha256:" + String(repeating: "a", count: 64), size: 1,
                          platform: OCIPlatform(architecture: "arm64", os: "linux", variant: "v8")),
            OCIDescriptor(mediaType: MediaType.ociManifest, digest: "sha256:" + String(repeating: "b", count: 64), size: 1,
                          platform: OCIPlatform(architecture: "amd64", os: "linux", variant: nil)),
        ])
        #expect(try ImageStore.platform(in: index, options: PullOptions(architecture: "amd64"), reference: "x").digest.hasSuffix("b"))
        #expect(try ImageStore.platform(in: index, options: PullOptions(architecture: "arm64", variant: "v8"), reference: "x").digest.hasSuffix("a"))
        do {
            _ = try ImageStore.platform(in: index, options: PullOptions(architecture: "s390x"), reference: "x")
            Issue.record("an absent platform was chosen")
        } catch {
            #expect(error.description.contains("linux/arm64/v8") && error.description.contains("linux/amd64"))
        }
    }
}
