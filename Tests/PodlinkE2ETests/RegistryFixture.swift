import Foundation
import Glibc
import PodlinkTestSupport
import Testing

/// Debian's docker-registry (distribution 2.8) on loopback inside a daemon's network
/// namespace, with a configuration of the test's own: plain HTTP, TLS with Basic auth
/// (htpasswd), or TLS with token auth from a token server of the test's. The CA, the
/// registries.conf, the certs.d directory and the auth file the daemon is pointed at are
/// made first (`RegistrySetup`), so the daemon can be started with them.
struct RegistrySetup {
    let directory: String
    var registriesConf: String { directory + "/registries.conf" }
    var certsDirectory: String { directory + "/certs.d" }
    var authFile: String { directory + "/auth.json" }
    var policyFile: String { directory + "/policy.json" }
    var ca: String { directory + "/pki/ca.crt" }

    static var available: Bool {
        Environment.require(Environment.executable("docker-registry") != nil, "docker-registry (Debian's distribution 2.8)")
            && Environment.require(Environment.executable("skopeo") != nil, "skopeo")
            && Environment.require(Environment.executable("openssl") != nil, "openssl")
    }

    /// The ports each kind listens on, inside the daemon's own network namespace.
    static let plainPort = 5000
    static let basicPort = 5001
    static let tokenPort = 5002
    static let tokenServerPort = 5003
    /// A plain-HTTP registry registries.conf does not mark insecure.
    static let unlistedPort = 5004
    static let mutualTLSPort = 5005

    init() throws {
        mkdir("/tmp/podlink-tests", 0o755)
        var template = Array("/tmp/podlink-tests/registry-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        try """
            unqualified-search-registries = ["127.0.0.1:\(Self.plainPort)"]
            [[registry]]
            location = "127.0.0.1:\(Self.plainPort)"
            insecure = true
            # A name that is never resolved: its mirror, the plain registry, has the images.
            [[registry]]
            prefix = "mirrored.invalid"
            location = "mirrored.invalid"
            [[registry.mirror]]
            location = "127.0.0.1:\(Self.plainPort)/mirror"
            insecure = true
            """.write(toFile: registriesConf, atomically: true, encoding: .utf8)
    }

    /// What the daemon needs to find all of it.
    var daemonEnvironment: [String] {
        [
            "CONTAINERS_REGISTRIES_CONF=\(registriesConf)", "PODLINK_CERTS_D=\(certsDirectory)", "REGISTRY_AUTH_FILE=\(authFile)",
        ]
    }

    /// A CA, a server certificate for 127.0.0.1 and a token-signing certificate, and the CA
    /// in certs.d for each TLS registry.
    func makePKI() async throws {
        let pki = directory + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        func openssl(_ arguments: [String]) async throws {
            let result = try await Tool.run(["openssl"] + arguments)
            guard result.status == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(result)") }
        }
        try await openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30", "-keyout", pki + "/ca.key", "-out", pki + "/ca.crt",
            "-subj", "/CN=Podlink test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: pki + "/server.ext", atomically: true, encoding: .utf8)
        try "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n".write(toFile: pki + "/client.ext", atomically: true, encoding: .utf8)
        for name in ["server", "token", "client"] {
            try await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(pki)/\(name).key", "-out", "\(pki)/\(name).csr", "-subj", "/CN=\(name)"])
            try await openssl(
                [
                    "x509", "-req", "-in", "\(pki)/\(name).csr", "-CA", pki + "/ca.crt", "-CAkey", pki + "/ca.key", "-set_serial",
                    String(Int.random(in: 1..<Int(Int32.max))), "-days", "30", "-sha256", "-out", "\(pki)/\(name).crt",
                ] + (name == "server" || name == "client" ? ["-extfile", "\(pki)/\(name).ext"] : []))
        }
        for port in [Self.basicPort, Self.tokenPort, Self.mutualTLSPort] {
            let certs = "\(certsDirectory)/127.0.0.1:\(port)"
            try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: ca, toPath: certs + "/ca.crt")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

final class Registry: @unchecked Sendable {
    enum Kind: Sendable {
        case plain
        case basicAuth
        case tokenAuth
        /// Plain HTTP on a port registries.conf does not list.
        case unlisted
        /// TLS that asks for a client certificate signed by the test CA.
        case mutualTLS
    }

    static let user = "tester"
    static let password = "s3cret:with-colon"

    let kind: Kind
    let setup: RegistrySetup
    let daemon: Daemon
    let directory: String
    let port: Int
    private var processes: [ChildProcess] = []

    var host: String { "127.0.0.1:\(port)" }
    var storage: String { directory + "/data" }
    var accessLog: String { directory + "/registry.log" }
    var tokenLog: String { directory + "/token.jsonl" }

    private init(kind: Kind, setup: RegistrySetup, daemon: Daemon) {
        self.kind = kind
        self.setup = setup
        self.daemon = daemon
        switch kind {
        case .plain: port = RegistrySetup.plainPort
        case .basicAuth: port = RegistrySetup.basicPort
        case .tokenAuth: port = RegistrySetup.tokenPort
        case .unlisted: port = RegistrySetup.unlistedPort
        case .mutualTLS: port = RegistrySetup.mutualTLSPort
        }
        directory = setup.directory + "/registry-\(port)"
    }

    /// Starts the registry (and its token server) in `daemon`'s network namespace and
    /// waits until it answers.
    static func start(_ kind: Kind, setup: RegistrySetup, daemon: Daemon) async throws -> Registry {
        let registry = Registry(kind: kind, setup: setup, daemon: daemon)
        try await registry.start()
        return registry
    }

    private func start() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pki = setup.directory + "/pki"
        var config = """
            version: 0.1
            log:
              level: info
              formatter: text
            storage:
              filesystem:
                rootdirectory: \(storage)
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:\(port)
              secret: podlink-test

            """
        if kind == .basicAuth || kind == .tokenAuth || kind == .mutualTLS {
            config += """
                  tls:
                    certificate: \(pki)/server.crt
                    key: \(pki)/server.key
                \(kind == .mutualTLS ? "    clientcas:\n      - \(pki)/ca.crt\n" : "")
                  http2:
                    disabled: true

                """
        }
        switch kind {
        case .basicAuth:
            // bcrypt, the only hash distribution accepts.
            let hash = try await Self.bcrypt(Self.password)
            try "\(Self.user):\(hash)\n".write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8)
            config += "auth:\n  htpasswd:\n    realm: podlink-test\n    path: \(directory)/htpasswd\n"
        case .tokenAuth:
            let server = try ChildProcess.start(daemon.inNetworkNamespace([
                "python3", Self.peersDirectory + "/registry_token_server.py", "--port", String(RegistrySetup.tokenServerPort),
                "--key", pki + "/token.key", "--cert", pki + "/token.crt", "--issuer", "podlink-test", "--service", "podlink-registry",
                "--user", Self.user, "--password", Self.password, "--anonymous-actions", "", "--log", tokenLog,
            ]))
            processes.append(server)
            config += """
                auth:
                  token:
                    realm: http://127.0.0.1:\(RegistrySetup.tokenServerPort)/token
                    service: podlink-registry
                    issuer: podlink-test
                    rootcertbundle: \(pki)/ca.crt

                """
        case .plain, .unlisted, .mutualTLS:
            break
        }
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        let process = try ChildProcess.start(
            ["sh", "-c", "exec \"$0\" \"$@\" >>\(accessLog) 2>&1"] + daemon.inNetworkNamespace(["docker-registry", "serve", directory + "/config.yml"]))
        processes.append(process)
        let scheme = kind == .plain || kind == .unlisted ? "http" : "https"
        let clientCertificate = kind == .mutualTLS ? ["--cert", pki + "/client.crt", "--key", pki + "/client.key"] : []
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let probe = try await daemon.runInNetworkNamespace(["curl", "-s", "-o", "/dev/null", "-k"] + clientCertificate + ["\(scheme)://\(host)/v2/"])
            if probe.status == 0 {
                if kind != .tokenAuth { break }
                let token = try await daemon.runInNetworkNamespace(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:\(RegistrySetup.tokenServerPort)/token"])
                if token.status == 0 { break }
            }
            guard ContinuousClock.now < deadline, process.process.isRunning else {
                throw TestFailure("docker-registry did not come up on \(host): \((try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() async {
        for process in processes.reversed() { await process.stop() }
        processes = []
    }

    /// The Peers folder beside this file (the test scripts).
    static let peersDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers").path

    /// A bcrypt hash of `password`, by htpasswd (apache2-utils; openssl has no bcrypt).
    static func bcrypt(_ password: String) async throws -> String {
        let result = try await Tool.run(["htpasswd", "-nbB", "x", password])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").first, let colon = line.firstIndex(of: ":") else {
            throw TestFailure("htpasswd (apache2-utils) is needed for the Basic-auth registry: \(result)")
        }
        return String(line[line.index(after: colon)...])
    }

    // MARK: - Seeding and reading with skopeo

    /// certs.d for skopeo: the CA, and for mutual TLS the client pair as NAME.cert/NAME.key.
    private var skopeoCertificates: String {
        let directory = "\(setup.directory)/skopeo-certs-\(port)"
        if !FileManager.default.fileExists(atPath: directory) {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let pki = setup.directory + "/pki"
            try? FileManager.default.copyItem(atPath: pki + "/ca.crt", toPath: directory + "/ca.crt")
            if kind == .mutualTLS {
                try? FileManager.default.copyItem(atPath: pki + "/client.crt", toPath: directory + "/client.cert")
                try? FileManager.default.copyItem(atPath: pki + "/client.key", toPath: directory + "/client.key")
            }
        }
        return directory
    }

    /// Gives the daemon the client certificate too (certs.d/HOST:PORT/client.cert, .key).
    func installClientCertificate() throws {
        let pki = setup.directory + "/pki"
        let certs = "\(setup.certsDirectory)/\(host)"
        try FileManager.default.copyItem(atPath: pki + "/client.crt", toPath: certs + "/client.cert")
        try FileManager.default.copyItem(atPath: pki + "/client.key", toPath: certs + "/client.key")
    }

    private var skopeoDestination: [String] {
        switch kind {
        case .mutualTLS: return ["--dest-cert-dir", skopeoCertificates]
        case .plain, .unlisted: return ["--dest-tls-verify=false"]
        case .basicAuth, .tokenAuth: return ["--dest-cert-dir", "\(setup.certsDirectory)/\(host)", "--dest-creds", "\(Self.user):\(Self.password)"]
        }
    }

    private var skopeoSource: [String] {
        switch kind {
        case .mutualTLS: return ["--cert-dir", skopeoCertificates]
        case .plain, .unlisted: return ["--tls-verify=false"]
        case .basicAuth, .tokenAuth: return ["--cert-dir", "\(setup.certsDirectory)/\(host)", "--creds", "\(Self.user):\(Self.password)"]
        }
    }

    /// skopeo copy SOURCE docker://HOST/NAME (`all` for every platform of an index).
    func seed(_ source: String, as name: String, all: Bool = false, format: String? = nil) async throws {
        var command = ["skopeo", "copy", "--quiet"] + skopeoDestination
        if all { command.append("--all") }
        if let format { command += ["--format", format] }
        let result = try await daemon.runInNetworkNamespace(command + [source, "docker://\(host)/\(name)"])
        guard result.status == 0 else { throw TestFailure("skopeo copy \(source) to \(host)/\(name): \(result)") }
    }

    /// The digest skopeo sees for NAME (the manifest's, or the index's).
    func digest(of name: String) async throws -> String {
        let result = try await daemon.runInNetworkNamespace(["skopeo", "inspect"] + skopeoSource + ["--format", "{{.Digest}}", "docker://\(host)/\(name)"])
        guard result.status == 0 else { throw TestFailure("skopeo inspect \(host)/\(name): \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// How many times the registry served one of `blobs` (GET .../blobs/DIGEST).
    func downloads(of blobs: [String], in repository: String) -> Int {
        let log = (try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { line in
            line.contains("\" 200 ") && blobs.contains { line.contains("\"GET /v2/\(repository)/blobs/\($0) ") }
        }.count
    }

    /// The layer digests of the (single-platform) image in an OCI layout.
    static func layerDigests(ofLayout layout: String) throws -> [String] {
        func object(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
        }
        let top = (try object(layout + "/index.json")["manifests"] as? [[String: Any]])?.first?["digest"] as? String ?? ""
        let manifest = try object(layout + "/blobs/sha256/" + top.dropFirst("sha256:".count))
        return (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }

    /// An OCI layout made by make_oci_layout.py; returns its directory. Layouts are built
    /// once per test process and shared (tests only read them): the big ones take seconds
    /// of CPU that the suites running beside them need.
    static func ociLayout(
        name: String, tag: String, layers: Int, platforms: String = "linux/amd64", padding: Int = 0, varyLast: Int = 0
    ) async throws -> String {
        let key = [name, tag, String(layers), platforms, String(padding), String(varyLast)].joined(separator: "-")
            .map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
        return try await OCILayouts.shared.layout(String(key)) { output in
            let result = try await Tool.run([
                "python3", peersDirectory + "/make_oci_layout.py", output, "--tag", tag, "--layers", String(layers), "--busybox", "/bin/busybox",
                "--platforms", platforms, "--padding", String(padding), "--vary-last", String(varyLast),
            ])
            guard result.status == 0 else { throw TestFailure("make_oci_layout.py: \(result)") }
        }
    }
}

/// The layouts of this test process, each built once, in a directory that goes with the
/// process (the next process removes those of processes that are gone).
actor OCILayouts {
    static let shared = OCILayouts()
    private var built: [String: Task<String, any Error>] = [:]
    private let directory: String

    private init() {
        let parent = "/tmp/podlink-tests"
        mkdir(parent, 0o755)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where entry.hasPrefix("layouts-") {
            if let pid = Int32(entry.dropFirst("layouts-".count)), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: parent + "/" + entry)
            }
        }
        directory = parent + "/layouts-\(getpid())"
        mkdir(directory, 0o755)
    }

    func layout(_ key: String, build: @escaping @Sendable (_ output: String) async throws -> Void) async throws -> String {
        if let existing = built[key] { return try await existing.value }
        let output = directory + "/" + key
        let task = Task {
            try? FileManager.default.removeItem(atPath: output)
            try await build(output)
            return output
        }
        built[key] = task
        return try await task.value
    }
}
