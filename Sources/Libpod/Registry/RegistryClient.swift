import AsyncHTTPClient
import Crypto
import Foundation
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The HTTP client every registry request of a runtime goes through: one connection pool
/// on the event loops the daemon serves on, made on first use and shut down with the
/// runtime.
public final class RegistryHTTP: Sendable {
    private let client = Mutex<HTTPClient?>(nil)
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    var http: HTTPClient {
        client.withLock { client in
            if let client { return client }
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .follow(max: 5, allowCycles: false),
                // A registry that stops sending for a minute is gone; a slow one is not.
                timeout: .init(connect: .seconds(15), read: .seconds(60)))
            configuration.httpVersion = .http1Only
            // A refused connection or a failed handshake is an answer (the registry is down,
            // or speaks plain HTTP): report it at once, not after retrying for the whole
            // connect timeout.
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.decompression = .disabled
            let made = HTTPClient(eventLoopGroup: group, configuration: configuration)
            client = made
            return made
        }
    }

    public func shutdown() async {
        guard let http = client.withLock({ client in defer { client = nil }; return client }) else { return }
        try? await http.shutdown()
    }
}

/// The distribution API (OCI distribution spec v2) against one registry: manifests, blobs,
/// uploads, the catalog; with the authentication the registry asks for (Basic, or Bearer
/// tokens from its realm), negotiated on the first 401 and kept per scope.
final class RegistryClient: Sendable {
    let registry: String
    private let baseURL: String
    private let http: HTTPClient
    private let tls: TLSConfiguration?
    private let credentials: RegistryCredentials?
    /// The Authorization header that worked, per token scope ("" for Basic, which has none).
    private let authorizations = Mutex<[String: String]>([:])

    static let manifestTypes = [
        MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList,
        MediaType.dockerManifestV1Signed, MediaType.dockerManifestV1,
    ]

    init(registry: String, insecure: Bool, http: RegistryHTTP, credentials: RegistryCredentials?, certsRoots: [String]) throws(LibpodError) {
        self.registry = registry
        let apiHost = registry == "docker.io" ? "registry-1.docker.io" : registry
        baseURL = (insecure ? "http://" : "https://") + apiHost
        self.http = http.http
        tls = insecure ? nil : try RegistryTLS.configuration(for: registry, roots: certsRoots)
        self.credentials = credentials
    }

    // MARK: - Manifests

    struct FetchedManifest: Sendable {
        var bytes: [UInt8]
        var mediaType: String
        var digest: String
    }

    /// The manifest (or index) `reference` names, checked against the digest asked for
    /// (or the one the registry states).
    func manifest(_ repository: String, reference: String) async throws(LibpodError) -> FetchedManifest {
        let operation = "fetching the manifest of \(registry)/\(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
        let response = try await send(
            .GET, "/v2/\(repository)/manifests/\(reference)", headers: [("Accept", Self.manifestTypes.joined(separator: ", "))],
            scope: "repository:\(repository):pull", operation: operation)
        try await expect(response, [.ok], operation: operation)
        let bytes = try await collect(response.body, limit: Int(ImageStore.maximumJSONSize), operation: operation)
        let digest = Digest.sha256(bytes)
        if reference.hasPrefix("sha256:"), reference != digest {
            throw .digestMismatch(blob: "the manifest \(registry)/\(repository)@\(reference)", expected: reference, found: digest)
        }
        if let stated = response.headers.first(name: "Docker-Content-Digest"), stated.hasPrefix("sha256:"), stated != digest {
            throw .digestMismatch(blob: "the manifest \(registry)/\(repository):\(reference)", expected: stated, found: digest)
        }
        var mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if let declared = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? nil {
            if declared["schemaVersion"] as? Int == 1 { mediaType = MediaType.dockerManifestV1 }
            if let inside = declared["mediaType"] as? String, !inside.isEmpty { mediaType = inside }
            if mediaType.isEmpty || mediaType == "application/json" {
                mediaType = declared["manifests"] != nil ? MediaType.ociIndex : MediaType.ociManifest
            }
        }
        return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: digest)
    }

    func putManifest(_ repository: String, reference: String, bytes: [UInt8], mediaType: String) async throws(LibpodError) {
        let operation = "writing the manifest of \(registry)/\(repository):\(reference)"
        let response = try await send(
            .PUT, "/v2/\(repository)/manifests/\(reference)", headers: [("Content-Type", mediaType)],
            body: .bytes(bytes), scope: "repository:\(repository):pull,push", operation: operation)
        try await expect(response, [.created, .ok, .accepted], operation: operation)
        try await drain(response)
    }

    // MARK: - Blobs

    /// Small blobs (configs) into memory, verified.
    func blob(_ repository: String, digest: String, limit: Int) async throws(LibpodError) -> [UInt8] {
        let operation = "fetching the blob \(digest) of \(registry)/\(repository)"
        let response = try await send(.GET, "/v2/\(repository)/blobs/\(digest)", scope: "repository:\(repository):pull", operation: operation)
        try await expect(response, [.ok], operation: operation)
        let bytes = try await collect(response.body, limit: limit, operation: operation)
        let found = Digest.sha256(bytes)
        guard found == digest else { throw .digestMismatch(blob: "the blob \(digest) from \(registry)/\(repository)", expected: digest, found: found) }
        return bytes
    }

    /// Streams a blob into `path` (created new, 0600), hashing while it arrives; a blob
    /// whose digest or size differs is deleted and refused.
    func download(_ repository: String, digest: String, size: Int64?, to path: String) async throws(LibpodError) {
        let operation = "fetching the blob \(digest) of \(registry)/\(repository)"
        let response = try await send(
            .GET, "/v2/\(repository)/blobs/\(digest)", scope: "repository:\(repository):pull", operation: operation, deadline: .hours(6))
        try await expect(response, [.ok], operation: operation)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileSystem.failure("creating", path) }
        var hasher = SHA256()
        var written: Int64 = 0
        do throws(LibpodError) {
            do {
                for try await chunk in response.body {
                    let result = chunk.withUnsafeReadableBytes { bytes in
                        hasher.update(bufferPointer: bytes)
                        return Result { () throws(LibpodError) in try FileSystem.writeAll(descriptor, bytes, path: path) }
                    }
                    try result.get()
                    written += Int64(chunk.readableBytes)
                    if let size, written > size {
                        throw LibpodError.digestMismatch(blob: "the blob \(digest) from \(registry)/\(repository)", expected: "\(size) bytes", found: "more")
                    }
                }
            } catch let error as LibpodError {
                throw error
            } catch {
                throw transportFailure(error, operation: operation)
            }
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(path)
            throw error
        }
        let found = Digest.prefix + Digest.hex(hasher.finalize())
        guard found == digest, size == nil || size == written else {
            unlink(path)
            throw .digestMismatch(
                blob: "the blob \(digest) from \(registry)/\(repository)", expected: digest + (size.map { " (\($0) bytes)" } ?? ""),
                found: "\(found) (\(written) bytes)")
        }
    }

    /// Whether the repository has the blob already (a push skips it then).
    func hasBlob(_ repository: String, digest: String) async throws(LibpodError) -> Bool {
        let operation = "checking for the blob \(digest) in \(registry)/\(repository)"
        let response = try await send(.HEAD, "/v2/\(repository)/blobs/\(digest)", scope: "repository:\(repository):pull,push", operation: operation)
        try await drain(response)
        switch response.status {
        case .ok: return true
        case .notFound: return false
        default: throw failure(response.status, body: "", operation: operation)
        }
    }

    /// A monolithic upload: POST for a session, then one PUT with the whole blob.
    func upload(_ repository: String, digest: String, body: RequestBody) async throws(LibpodError) {
        let operation = "uploading the blob \(digest) to \(registry)/\(repository)"
        let scope = "repository:\(repository):pull,push"
        let started = try await send(.POST, "/v2/\(repository)/blobs/uploads/", headers: [("Content-Length", "0")], scope: scope, operation: operation)
        try await expect(started, [.accepted], operation: operation)
        try await drain(started)
        guard let location = started.headers.first(name: "Location") else {
            throw .registry(RegistryFailure(kind: .protocolError, registry: registry, operation: operation, message: "the registry started an upload without a Location"))
        }
        var target = location.hasPrefix("http://") || location.hasPrefix("https://") ? location : baseURL + location
        target += (target.contains("?") ? "&" : "?") + "digest=" + digest
        let response = try await send(
            .PUT, target, headers: [("Content-Type", "application/octet-stream")], body: body, scope: scope, operation: operation,
            deadline: .hours(6))
        try await expect(response, [.created, .noContent, .accepted], operation: operation)
        try await drain(response)
    }

    // MARK: - Discovery

    /// `/v2/_catalog`, the only search a distribution registry offers: page by page (the
    /// registry's `Link: <...>; rel="next"`), up to `limit` names.
    func catalog(limit: Int) async throws(LibpodError) -> [String] {
        let operation = "listing the repositories of \(registry)"
        var names: [String] = []
        var next: String? = "/v2/_catalog?n=1000"
        while let page = next, names.count < limit {
            let response = try await send(.GET, page, scope: "registry:catalog:*", operation: operation)
            if response.status == .notFound || response.status == .methodNotAllowed {
                try await drain(response)
                throw .registry(RegistryFailure(
                    kind: .unsupported, registry: registry, operation: operation,
                    message: "the registry offers no catalog (/v2/_catalog answered \(response.status.code)), so it cannot be searched; pull by full name instead"))
            }
            try await expect(response, [.ok], operation: operation)
            let bytes = try await collect(response.body, limit: 16 << 20, operation: operation)
            guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? nil,
                let repositories = object["repositories"] as? [String]
            else {
                throw .registry(RegistryFailure(kind: .protocolError, registry: registry, operation: operation, message: "the catalog is not {\"repositories\": [...]}"))
            }
            names += repositories
            next = response.headers.first(name: "Link").flatMap { link in
                guard link.contains("rel=\"next\""), let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">") else { return nil }
                return String(link[link.index(after: open)..<close])
            }
        }
        return Array(names.prefix(limit))
    }

    /// `GET /v2/`: whether the credentials are accepted (login).
    func ping() async throws(LibpodError) {
        let operation = "logging in to \(registry)"
        let response = try await send(.GET, "/v2/", scope: "", operation: operation)
        try await expect(response, [.ok], operation: operation)
        try await drain(response)
    }

    // MARK: - Requests and authentication

    private func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: RequestBody? = nil,
        scope: String, operation: String, deadline: TimeAmount = .seconds(120)
    ) async throws(LibpodError) -> HTTPClientResponse {
        var retried = false
        while true {
            var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : baseURL + path)
            request.method = method
            request.tlsConfiguration = tls
            request.headers.add(name: "User-Agent", value: "podlink")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorization = authorizations.withLock({ $0[scope] ?? $0[""] }) {
                request.headers.add(name: "Authorization", value: authorization)
            }
            switch body {
            case .bytes(let bytes): request.body = .bytes(ByteBuffer(bytes: bytes))
            case .file(let path, let size): request.body = .stream(FileChunks(path: path), length: .known(size))
            case nil: break
            }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: deadline)
            } catch {
                throw transportFailure(error, operation: operation)
            }
            guard response.status == .unauthorized, !retried else { return response }
            let challenge = response.headers.first(name: "WWW-Authenticate") ?? ""
            try await drain(response)
            try await authenticate(challenge: challenge, scope: scope, operation: operation)
            retried = true
        }
    }

    /// What a request sends; both kinds can be sent again after a 401.
    enum RequestBody {
        case bytes([UInt8])
        case file(String, size: Int64)
    }

    private func authenticate(challenge: String, scope: String, operation: String) async throws(LibpodError) {
        let (scheme, parameters) = Self.parseChallenge(challenge)
        switch scheme.lowercased() {
        case "basic":
            guard let credentials else {
                throw .registry(RegistryFailure(kind: .unauthorized, registry: registry, operation: operation, message: "the registry asks for a user name and password"))
            }
            authorizations.withLock { $0[""] = "Basic " + credentials.basicToken }
        case "bearer":
            guard let realm = parameters["realm"], !realm.isEmpty else {
                throw .registry(RegistryFailure(kind: .protocolError, registry: registry, operation: operation, message: "a Bearer challenge without a realm: \(challenge)"))
            }
            var query: [String] = []
            if let service = parameters["service"] { query.append("service=" + Self.percentEncoded(service)) }
            let wanted = scope.isEmpty ? parameters["scope"] ?? "" : scope
            if !wanted.isEmpty { query.append("scope=" + Self.percentEncoded(wanted)) }
            let url = realm + (query.isEmpty ? "" : (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
            var request = HTTPClientRequest(url: url)
            request.tlsConfiguration = url.hasPrefix("https") ? tls : nil
            if let credentials { request.headers.add(name: "Authorization", value: "Basic " + credentials.basicToken) }
            let tokenOperation = "getting a token for \(registry) from \(realm)"
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: .seconds(60))
            } catch {
                throw transportFailure(error, operation: tokenOperation)
            }
            if response.status == .unauthorized || response.status == .forbidden {
                try await drain(response)
                throw .registry(RegistryFailure(
                    kind: .unauthorized, registry: registry, operation: tokenOperation,
                    message: credentials == nil ? "the token service wants credentials" : "the token service refused the credentials"))
            }
            try await expect(response, [.ok], operation: tokenOperation)
            let bytes = try await collect(response.body, limit: 1 << 20, operation: tokenOperation)
            guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? nil,
                let token = (object["token"] as? String) ?? (object["access_token"] as? String), !token.isEmpty
            else {
                throw .registry(RegistryFailure(kind: .protocolError, registry: registry, operation: tokenOperation, message: "the answer has no token"))
            }
            authorizations.withLock { $0[scope] = "Bearer " + token }
        default:
            throw .registry(RegistryFailure(
                kind: .unauthorized, registry: registry, operation: operation,
                message: challenge.isEmpty ? "401 without a challenge" : "unsupported authentication \"\(challenge)\""))
        }
    }

    /// `Bearer realm="https://x/token",service="x",scope="repository:a:pull,push"`.
    static func parseChallenge(_ header: String) -> (scheme: String, parameters: [String: String]) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return (trimmed, [:]) }
        var parameters: [String: String] = [:]
        var rest = trimmed[trimmed.index(after: space)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.first, character != "\"" {
                    if character == "\\", rest.count > 1 { rest = rest.dropFirst() }
                    value.append(rest.first!)
                    rest = rest.dropFirst()
                }
                rest = rest.dropFirst()
            } else {
                value = String(rest.prefix { $0 != "," })
                rest = rest.drop { $0 != "," }
            }
            parameters[key] = value
        }
        return (String(trimmed[..<space]), parameters)
    }

    private static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    // MARK: - Responses

    private func expect(_ response: HTTPClientResponse, _ statuses: [HTTPResponseStatus], operation: String) async throws(LibpodError) {
        guard !statuses.contains(response.status) else { return }
        let body = (try? await collect(response.body, limit: 64 << 10, operation: operation)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        throw failure(response.status, body: body, operation: operation)
    }

    private func failure(_ status: HTTPResponseStatus, body: String, operation: String) -> LibpodError {
        // The distribution API's errors: {"errors": [{"code", "message", "detail"}]}.
        var message = "HTTP \(status.code) \(status.reasonPhrase)"
        var codes: [String] = []
        if let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? nil,
            let errors = object["errors"] as? [[String: Any]], !errors.isEmpty
        {
            codes = errors.compactMap { $0["code"] as? String }
            message = errors.map { "\($0["code"] as? String ?? "ERROR"): \($0["message"] as? String ?? "")" }.joined(separator: "; ")
        }
        let kind: RegistryFailure.Kind
        switch status {
        case .unauthorized, .forbidden: kind = .unauthorized
        case .notFound: kind = .notFound
        default: kind = codes.contains { $0.hasSuffix("_UNKNOWN") } ? .notFound : .protocolError
        }
        return .registry(RegistryFailure(kind: kind, registry: registry, operation: operation, message: message))
    }

    private func transportFailure(_ error: any Error, operation: String) -> LibpodError {
        if error is CancellationError { return .cancelled(operation) }
        if let http = error as? HTTPClientError, http == .cancelled { return .cancelled(operation) }
        return .registry(RegistryFailure(kind: .transport, registry: registry, operation: operation, message: "\(error)"))
    }

    private func collect(_ body: HTTPClientResponse.Body, limit: Int, operation: String) async throws(LibpodError) -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw .registry(RegistryFailure(kind: .protocolError, registry: registry, operation: operation, message: "the answer is larger than \(limit) bytes"))
        } catch {
            throw transportFailure(error, operation: operation)
        }
    }

    private func drain(_ response: HTTPClientResponse) async throws(LibpodError) {
        do {
            for try await _ in response.body {}
        } catch {
            throw transportFailure(error, operation: "reading an answer of \(registry)")
        }
    }
}

/// A file as a sequence of 1 MiB buffers, for streamed uploads.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var descriptor: Int32 = -1
        let path: String
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if descriptor < 0 {
                descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw FileSystem.failure("opening", path) }
            }
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { bytes in
                Swift.max(0, read(descriptor, bytes.baseAddress, bytes.count))
            }
            if count == 0 {
                close(descriptor)
                finished = true
                return nil
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path) }
}
