/// Image references the way podman reads them: `[domain/]path[:tag][@digest]`. The store
/// records every name fully qualified and tagged, so that `busybox`, `busybox:latest` and
/// `localhost/busybox:latest` all find the same entry.
enum ImageName {
    struct Parsed: Equatable {
        var repository: String
        var tag: String?
        var digest: String?
    }

    /// Splits without judging; `validate` says whether the parts are acceptable.
    static func parse(_ reference: String) -> Parsed {
        var rest = Substring(reference)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        var tag: String?
        // A colon before the last slash is a registry port, not a tag.
        let lastComponent = rest.lastIndex(of: "/").map { rest.index(after: $0) } ?? rest.startIndex
        if let colon = rest[lastComponent...].lastIndex(of: ":") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        return Parsed(repository: String(rest), tag: tag, digest: digest)
    }

    /// Docker's rule: the first component is a registry when it looks like a host name.
    static func hasDomain(_ repository: String) -> Bool {
        guard let slash = repository.firstIndex(of: "/") else { return false }
        let first = repository[..<slash]
        return first.contains(".") || first.contains(":") || first == "localhost"
    }

    static func validate(_ parsed: Parsed, original: String) throws(LibpodError) {
        func refuse(_ why: String) -> LibpodError {
            .invalidArgument("invalid image reference \"\(original)\": \(why)")
        }
        guard !parsed.repository.isEmpty else { throw refuse("the repository name is empty") }
        guard parsed.repository.utf8.count <= 255 else { throw refuse("the repository name is longer than 255 characters") }
        var components = parsed.repository.split(separator: "/", omittingEmptySubsequences: false)
        if hasDomain(parsed.repository) {
            let domain = components.removeFirst()
            let host = domain.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            // Dot-separated labels, each starting and ending with a letter or digit: a
            // host, and never "." or "..", which would walk out of the store.
            let hostValid = host[0].split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                guard let first = label.utf8.first, let last = label.utf8.last else { return false }
                return isAlphanumeric(first) && isAlphanumeric(last)
                    && label.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x2d }
            }
            let portValid = host.count == 1 || (!host[1].isEmpty && host[1].utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
            guard hostValid && portValid else { throw refuse("\"\(domain)\" is not a valid registry host[:port]") }
        }
        for component in components {
            guard let first = component.utf8.first, let last = component.utf8.last else {
                throw refuse("a path component is empty")
            }
            if component.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) {
                throw refuse("repository names must be lowercase")
            }
            let allowed = component.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
            guard allowed && isLowerAlphanumeric(first) && isLowerAlphanumeric(last) else {
                throw refuse("\"\(component)\" may have only a-z, 0-9 and inner '.', '_' or '-'")
            }
        }
        if let tag = parsed.tag {
            let bytes = Array(tag.utf8)
            let valid = !bytes.isEmpty && bytes.count <= 128 && (isAlphanumeric(bytes[0]) || bytes[0] == 0x5f)
                && bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }
            guard valid else { throw refuse("the tag \"\(tag)\" must be 1-128 of A-Z, a-z, 0-9, '_', '.', '-', not starting with '.' or '-'") }
        }
        if let digest = parsed.digest, !Digest.isValidSHA256(digest) {
            throw refuse("the digest \"\(digest)\" is not sha256: and 64 lowercase hex digits")
        }
    }

    /// The repository with its registry: `defaultDomain` when it has none, and docker.io's
    /// `library/` for official images.
    static func qualifiedRepository(_ repository: String, defaultDomain: String) -> String {
        let full = hasDomain(repository) ? repository : defaultDomain + "/" + repository
        if full.hasPrefix("docker.io/") && full.dropFirst("docker.io/".count).contains("/") == false {
            return "docker.io/library/" + full.dropFirst("docker.io/".count)
        }
        return full
    }

    /// A name to record for an image: qualified (with `defaultDomain` when it has no
    /// registry) and tagged (`latest` when it has no tag). Digests are refused: a name
    /// the store gives can only be a tag.
    static func storageName(_ reference: String, defaultDomain: String = "localhost") throws(LibpodError) -> String {
        let parsed = parse(reference)
        try validate(parsed, original: reference)
        guard parsed.digest == nil else {
            throw .invalidArgument("cannot name an image \"\(reference)\": a name takes a tag, not a digest")
        }
        return qualifiedRepository(parsed.repository, defaultDomain: defaultDomain) + ":" + (parsed.tag ?? "latest")
    }

    /// The names a reference may stand for, in the order podman tries them: a short name
    /// is first a local image, then one from Docker Hub.
    static func lookupCandidates(_ reference: String) -> [String] {
        let parsed = parse(reference)
        guard (try? validate(parsed, original: reference)) != nil, parsed.digest == nil else { return [] }
        let tag = ":" + (parsed.tag ?? "latest")
        if hasDomain(parsed.repository) {
            return [qualifiedRepository(parsed.repository, defaultDomain: "docker.io") + tag]
        }
        return [
            qualifiedRepository(parsed.repository, defaultDomain: "localhost") + tag,
            qualifiedRepository(parsed.repository, defaultDomain: "docker.io") + tag,
        ]
    }

    /// The repositories (no tag) a `name@digest` reference may stand for.
    static func digestCandidates(_ reference: String) -> (repositories: [String], digest: String)? {
        let parsed = parse(reference)
        guard let digest = parsed.digest, (try? validate(parsed, original: reference)) != nil else { return nil }
        if hasDomain(parsed.repository) {
            return ([qualifiedRepository(parsed.repository, defaultDomain: "docker.io")], digest)
        }
        return (
            [
                qualifiedRepository(parsed.repository, defaultDomain: "localhost"),
                qualifiedRepository(parsed.repository, defaultDomain: "docker.io"),
            ], digest
        )
    }

    /// The repository part of a recorded name.
    static func repository(of name: String) -> String { parse(name).repository }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7a)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (byte >= 0x41 && byte <= 0x5a)
    }
}
