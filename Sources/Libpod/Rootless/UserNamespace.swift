import Glibc

/// One line of /proc/PID/uid_map or gid_map: `count` ids from `inside` in the namespace
/// are `outside` and on in the namespace above it.
public struct IDMapping: Sendable, Equatable, CustomStringConvertible {
    public var inside: UInt32
    public var outside: UInt32
    public var count: UInt32

    public init(inside: UInt32, outside: UInt32, count: UInt32) {
        self.inside = inside
        self.outside = outside
        self.count = count
    }

    public var description: String { "\(inside) \(outside) \(count)" }

    func contains(_ id: UInt32) -> Bool { id >= inside && UInt64(id) < UInt64(inside) + UInt64(count) }

    /// Parses a uid_map or gid_map file's text; a malformed line is skipped.
    public static func parse(_ text: String) -> [IDMapping] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).compactMap { UInt32($0) }
            return fields.count == 3 ? IDMapping(inside: fields[0], outside: fields[1], count: fields[2]) : nil
        }
    }
}

/// The user namespace this process runs in, read once: it does not change after the
/// rootless entry (Sources/CRootlessEntry) has run, which happens before main.
///
/// Rootful, it is the initial namespace (every id maps to itself). Rootless, podlinkd is
/// root of a namespace that maps 0 to the user who started it and 1... to that user's
/// subordinate ids: `geteuid()` says 0, and the user is `hostUID`.
public struct UserNamespace: Sendable, Equatable {
    public var uidMappings: [IDMapping]
    public var gidMappings: [IDMapping]

    public init(uidMappings: [IDMapping], gidMappings: [IDMapping]) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }

    /// This process's namespace.
    public static let current = UserNamespace(
        uidMappings: IDMapping.parse(FileSystem.text("/proc/self/uid_map")),
        gidMappings: IDMapping.parse(FileSystem.text("/proc/self/gid_map")))

    /// The initial namespace maps the whole 32-bit range onto itself.
    public var isInitial: Bool {
        uidMappings == [IDMapping(inside: 0, outside: 0, count: UInt32.max)]
    }

    /// Whether this process is a rootless runtime: in a namespace of a user's, or simply
    /// not root.
    public var isRootless: Bool { !isInitial || geteuid() != 0 }

    /// The user on the host: the one our root maps to, or our own uid outside any namespace.
    public var hostUID: uid_t {
        if isInitial { return geteuid() }
        return uidMappings.first { $0.inside == 0 }?.outside ?? geteuid()
    }

    public var hostGID: gid_t {
        if isInitial { return getegid() }
        return gidMappings.first { $0.inside == 0 }?.outside ?? getegid()
    }

    /// How many ids the namespace has: 1 when only the user is mapped.
    public var mappedUIDCount: UInt64 { uidMappings.reduce(0) { $0 + UInt64($1.count) } }

    public func mapsUID(_ id: UInt32) -> Bool { uidMappings.contains { $0.contains(id) } }

    public func mapsGID(_ id: UInt32) -> Bool { gidMappings.contains { $0.contains(id) } }

    /// The host's id for an id of this namespace (a file the container's root makes is
    /// the user's on the host).
    public func hostUID(of id: UInt32) -> UInt32? {
        uidMappings.first { $0.contains(id) }.map { $0.outside + (id - $0.inside) }
    }
}
