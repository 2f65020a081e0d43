import NIOSSL

/// containers-certs.d(5): for a registry `HOST[:PORT]`, the directory of that name under
/// each certs.d root holds `*.crt` (CAs trusted in addition to the system's) and
/// `NAME.cert` with `NAME.key` (a client certificate). The first root that has the
/// directory is used.
enum RegistryTLS {
    static let standardRoots = ["/etc/containers/certs.d", "/etc/docker/certs.d"]

    static func configuration(for registry: String, roots: [String]) throws(LibpodError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        guard let directory = roots.map({ $0 + "/" + registry }).first(where: FileSystem.isDirectory) else { return tls }
        let files = FileSystem.list(directory).sorted()
        for file in files where file.hasSuffix(".crt") {
            tls.additionalTrustRoots.append(.file(directory + "/" + file))
        }
        for file in files where file.hasSuffix(".cert") {
            let key = directory + "/" + file.dropLast(".cert".count) + ".key"
            guard FileSystem.exists(key) else {
                throw .config(ConfigError(file: directory + "/" + file, message: "a client certificate needs its key beside it as \(key)"))
            }
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(directory + "/" + file).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw .config(ConfigError(file: directory + "/" + file, message: "cannot read the client certificate or its key: \(error)"))
            }
        }
        return tls
    }
}
