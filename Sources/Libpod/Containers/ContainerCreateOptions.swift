/// What a caller asks for when creating a container; unset fields come from the image.
/// Every field is validated, and a value Podlink cannot honour is refused with the
/// field's name rather than ignored.
public struct ContainerCreateOptions: Sendable, Equatable {
    /// Image reference, ID or ID prefix.
    public var image: String
    public var name = ""
    /// Replaces the image's Cmd; nil keeps it.
    public var command: [String]?
    /// Replaces the image's Entrypoint; nil keeps it.
    public var entrypoint: [String]?
    /// `NAME=value` entries, over the image's.
    public var env: [String] = []
    public var workingDir: String?
    public var user: String?
    public var hostname = ""
    public var labels: [String: String] = [:]
    public var tty = false
    public var readOnlyRootfs = false
    /// Bytes.
    public var memoryLimit: Int64?
    public var pidsLimit: Int64?
    public var cpuShares: UInt64?
    public var network = NetworkMode.none
    public var mounts: [BindMount] = []
    public var stopSignal: Int32?
    /// Seconds.
    public var stopTimeout: UInt32?
    public var autoRemove = false

    public init(image: String) {
        self.image = image
    }

    /// The checks that need no image.
    func validate() throws(LibpodError) {
        func fail(_ field: String, _ message: String) -> LibpodError { .invalidArgument("invalid \(field): \(message)") }
        if !name.isEmpty { try ContainerNaming.validate(name: name) }
        for entry in env {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw fail("env", "\"\(entry)\" must be NAME=value")
            }
            if entry.contains("\0") { throw fail("env", "\"\(entry.prefix(40))\" contains a NUL byte") }
        }
        if let workingDir, !workingDir.hasPrefix("/") { throw fail("workdir", "\"\(workingDir)\" must be an absolute path") }
        if !hostname.isEmpty {
            let bytes = Array(hostname.utf8)
            let allowed = bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || $0 == 0x2d || $0 == 0x2e }
            guard allowed, bytes.count <= 253, bytes.first != 0x2d else {
                throw fail("hostname", "\"\(hostname)\" is not a valid host name (letters, digits, '-' and '.', at most 253)")
            }
        }
        if let memoryLimit, memoryLimit < 6 * 1024 * 1024 {
            throw fail("memory", "\(memoryLimit) bytes is below the minimum of 6 MiB")
        }
        if let pidsLimit, pidsLimit < 1 { throw fail("pids-limit", "\(pidsLimit) must be at least 1") }
        if let cpuShares, !(2...262_144).contains(cpuShares) { throw fail("cpu-shares", "\(cpuShares) must be between 2 and 262144") }
        if let stopSignal, !(1...64).contains(stopSignal) { throw fail("stop-signal", "\(stopSignal) is not a signal number (1-64)") }
        if let command, command.contains(where: { $0.contains("\0") }) { throw fail("command", "an argument contains a NUL byte") }
        for mount in mounts {
            guard mount.source.hasPrefix("/"), FileSystem.exists(mount.source) else {
                throw fail("mount", "source \"\(mount.source)\" must be an existing absolute path on the host")
            }
            guard mount.destination.hasPrefix("/"), !mount.destination.split(separator: "/").contains("..") else {
                throw fail("mount", "destination \"\(mount.destination)\" must be an absolute path without '..'")
            }
        }
        for (key, _) in labels where key.isEmpty { throw fail("label", "a label key must not be empty") }
    }
}
