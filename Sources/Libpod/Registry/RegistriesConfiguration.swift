import TOMLKit

/// containers-registries.conf(5): which registries a short name is searched in, and for
/// each registry (by prefix) whether it is blocked, reached over plain HTTP, or mirrored.
///
/// Both shapes podman 1.9 read are understood: version 2 (`unqualified-search-registries`
/// and `[[registry]]` tables) and version 1 (`[registries.search]`, `[registries.insecure]`,
/// `[registries.block]`, each with a `registries` list).
public struct RegistriesConfiguration: Sendable, Equatable {
    public struct Mirror: Sendable, Equatable {
        public var location: String
        public var insecure: Bool
    }

    public struct Registry: Sendable, Equatable {
        /// What references this entry applies to: `host[:port][/path]`, matched at
        /// component boundaries; the longest matching prefix wins.
        public var prefix: String
        /// Where they are fetched from instead (the prefix itself when not given).
        public var location: String
        public var insecure: Bool
        public var blocked: Bool
        public var mirrors: [Mirror]
        /// Mirrors are used only for pulls by digest.
        public var mirrorByDigestOnly: Bool
    }

    public var unqualifiedSearchRegistries: [String] = []
    public var registries: [Registry] = []
    /// The file it came from, for errors ("" when built in code).
    public var path: String = ""

    public static let defaultPath = "/etc/containers/registries.conf"

    public init(unqualifiedSearchRegistries: [String] = [], registries: [Registry] = [], path: String = "") {
        self.unqualifiedSearchRegistries = unqualifiedSearchRegistries
        self.registries = registries
        self.path = path
    }

    /// The file at `path`; a missing file is an empty configuration (no search registries,
    /// every registry over TLS), as in containers/image.
    public static func load(path: String) throws(LibpodError) -> RegistriesConfiguration {
        guard let text = try FileSystem.readString(path) else { return RegistriesConfiguration(path: path) }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(LibpodError) -> RegistriesConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .config(ConfigError(file: path, line: error.source.begin.line, column: error.source.begin.column, message: "not valid TOML: \(error.description)"))
        } catch {
            throw .config(ConfigError(file: path, message: "not valid TOML: \(error)"))
        }
        var configuration = RegistriesConfiguration(path: path)
        configuration.unqualifiedSearchRegistries = try strings(table["unqualified-search-registries"], key: "unqualified-search-registries", path: path)
        if let entries = table["registry"] {
            guard let array = entries.array else {
                throw .config(ConfigError(file: path, message: "registry must be an array of tables ([[registry]])"))
            }
            for entry in array {
                guard let entry = entry.table else {
                    throw .config(ConfigError(file: path, message: "each [[registry]] must be a table"))
                }
                configuration.registries.append(try registry(entry, path: path))
            }
        }
        if let v1 = table["registries"]?.table {
            guard configuration.registries.isEmpty && configuration.unqualifiedSearchRegistries.isEmpty else {
                throw .config(ConfigError(
                    file: path, message: "mixes the version 1 [registries.*] tables with version 2 keys; use one format"))
            }
            configuration.unqualifiedSearchRegistries = try strings(v1["search"]?.table?["registries"], key: "registries.search.registries", path: path)
            let insecure = try strings(v1["insecure"]?.table?["registries"], key: "registries.insecure.registries", path: path)
            let blocked = try strings(v1["block"]?.table?["registries"], key: "registries.block.registries", path: path)
            for location in Set(insecure + blocked).sorted() {
                configuration.registries.append(
                    Registry(
                        prefix: location, location: location, insecure: insecure.contains(location), blocked: blocked.contains(location),
                        mirrors: [], mirrorByDigestOnly: false))
            }
        }
        return configuration
    }

    /// The entry for `reference` (`host[:port]/path...`): the longest prefix that matches
    /// whole components.
    public func registry(for reference: String) -> Registry? {
        var best: Registry?
        for entry in registries where Self.matches(prefix: entry.prefix, reference: reference) {
            if entry.prefix.count > (best?.prefix.count ?? -1) { best = entry }
        }
        return best
    }

    static func matches(prefix: String, reference: String) -> Bool {
        if prefix.hasPrefix("*.") {
            let host = reference.prefix { $0 != "/" }
            return host.hasSuffix(prefix.dropFirst())
        }
        guard reference.hasPrefix(prefix) else { return false }
        let rest = reference.dropFirst(prefix.count)
        guard let next = rest.first else { return true }
        return next == "/" || next == ":" || next == "@" || prefix.hasSuffix("/")
    }

    private static func registry(_ entry: TOMLTable, path: String) throws(LibpodError) -> Registry {
        func bool(_ key: String) throws(LibpodError) -> Bool {
            guard let value = entry[key] else { return false }
            guard let flag = value.bool else { throw .config(ConfigError(file: path, message: "[[registry]] \(key) must be true or false")) }
            return flag
        }
        let location = entry["location"]?.string ?? ""
        let prefix = entry["prefix"]?.string ?? location
        guard !prefix.isEmpty else {
            throw .config(ConfigError(file: path, message: "a [[registry]] needs a location (or a prefix)"))
        }
        var mirrors: [Mirror] = []
        for mirror in entry["mirror"]?.array ?? [] {
            guard let mirror = mirror.table, let mirrorLocation = mirror["location"]?.string, !mirrorLocation.isEmpty else {
                throw .config(ConfigError(file: path, message: "each [[registry.mirror]] of \(prefix) needs a location"))
            }
            mirrors.append(Mirror(location: mirrorLocation, insecure: mirror["insecure"]?.bool ?? false))
        }
        return Registry(
            prefix: prefix, location: location.isEmpty ? prefix : location, insecure: try bool("insecure"),
            blocked: try bool("blocked"), mirrors: mirrors, mirrorByDigestOnly: try bool("mirror-by-digest-only"))
    }

    private static func strings(_ value: (any TOMLValueConvertible)?, key: String, path: String) throws(LibpodError) -> [String] {
        guard let value else { return [] }
        guard let array = value.array else { throw .config(ConfigError(file: path, message: "\(key) must be an array of strings")) }
        var result: [String] = []
        for element in array {
            guard let string = element.string else { throw .config(ConfigError(file: path, message: "\(key) must be an array of strings")) }
            result.append(string)
        }
        return result
    }
}
