import Foundation
import Glibc

/// podman top's process table, read from /proc as psgo reads it: one descriptor per
/// column (`user`, `pid`, `pcpu`, `args`, ...), PIDs as the container's namespace sees
/// them, and podman's column headers and formats.
public enum ProcessTable {
    /// The columns podman shows when none are asked for.
    public static let defaultDescriptors = ["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"]

    /// Header by descriptor (psgo's names and AIX codes both).
    static let headers: [String: String] = [
        "pcpu": "%CPU", "group": "GROUP", "ppid": "PPID", "user": "USER", "args": "COMMAND", "comm": "COMMAND",
        "rgroup": "RGROUP", "nice": "NI", "pid": "PID", "pgid": "PGID", "etime": "ELAPSED", "ruser": "RUSER",
        "time": "TIME", "tty": "TTY", "vsz": "VSZ", "capamb": "AMBIENT CAPS", "capinh": "INHERITED CAPS",
        "capprm": "PERMITTED CAPS", "capeff": "EFFECTIVE CAPS", "capbnd": "BOUNDING CAPS", "seccomp": "SECCOMP",
        "label": "LABEL", "hpid": "HPID", "huser": "HUSER", "hgroup": "HGROUP", "state": "STATE", "stime": "STIME",
    ]
    static let codes: [String: String] = [
        "%C": "pcpu", "%G": "group", "%P": "ppid", "%U": "user", "%a": "args", "%c": "comm", "%g": "rgroup",
        "%n": "nice", "%p": "pid", "%r": "pgid", "%t": "etime", "%u": "ruser", "%x": "time", "%y": "tty", "%z": "vsz",
    ]

    /// Descriptors as podman takes them: each element may hold several, comma-separated;
    /// an unknown one is an error that names the known ones.
    public static func descriptors(_ requested: [String]) throws(LibpodError) -> [String] {
        let split = requested.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        if split.isEmpty { return defaultDescriptors }
        return try split.map { (name: String) throws(LibpodError) -> String in
            if headers[name] != nil { return name }
            if let mapped = codes[name] { return mapped }
            throw .invalidArgument("'\(name)': unknown descriptor; use \(headers.keys.sorted().joined(separator: ", "))")
        }
    }

    /// The header row, then a row per process of `hostPIDs`. `rootPID` is the
    /// container's first process (its parent shows as 0, as inside the namespace);
    /// `rootfs` resolves user and group names against the container's own files.
    static func rows(descriptors: [String], hostPIDs: [Int32], rootPID: Int32, rootfs: String) -> [[String]] {
        let users = NameTable(path: rootfs + "/etc/passwd")
        let groups = NameTable(path: rootfs + "/etc/group")
        let hostUsers = NameTable(path: "/etc/passwd")
        let hostGroups = NameTable(path: "/etc/group")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let uptime = ((try? FileSystem.readString("/proc/uptime")) ?? nil).flatMap { Double($0.split(separator: " ").first ?? "") } ?? 0
        var rows = [descriptors.map { headers[$0] ?? $0.uppercased() }]
        for hostPID in hostPIDs {
            guard let process = ProcessInfoReader(pid: hostPID) else { continue }
            let start = process.startTicks / ticks
            let elapsed = max(0, uptime - start)
            let cpu = process.cpuTicks / ticks
            rows.append(descriptors.map { descriptor in
                switch descriptor {
                case "pid": process.namespacePID
                case "ppid": hostPID == rootPID ? "0" : process.namespaceParentPID
                case "hpid": String(hostPID)
                case "user": users.name(process.effectiveUID)
                case "ruser": users.name(process.realUID)
                case "huser": hostUsers.name(process.effectiveUID)
                case "group": groups.name(process.effectiveGID)
                case "rgroup": groups.name(process.realGID)
                case "hgroup": hostGroups.name(process.effectiveGID)
                case "pcpu": String(format: "%.3f", elapsed > 0 ? cpu / elapsed * 100 : 0)
                case "etime": goDuration(elapsed)
                case "time": goDuration(cpu)
                case "tty": process.tty
                case "args": process.arguments.isEmpty ? "[\(process.name)]" : process.arguments.joined(separator: " ") + " "
                case "comm": process.name
                case "nice": process.nice
                case "pgid": process.processGroup
                case "vsz": String(process.virtualKilobytes)
                case "state": process.state
                case "stime": RFC3339.format(Date().addingTimeInterval(-elapsed))
                case "capamb": process.capabilities("CapAmb")
                case "capinh": process.capabilities("CapInh")
                case "capprm": process.capabilities("CapPrm")
                case "capeff": process.capabilities("CapEff")
                case "capbnd": process.capabilities("CapBnd")
                case "seccomp": process.seccomp
                case "label": process.label
                default: "?"
                }
            })
        }
        return rows
    }

    /// Go's Duration.String() to the nanosecond, as psgo prints times: `4.508956309s`, `0s`.
    static func goDuration(_ seconds: Double) -> String {
        let nanoseconds = Int64((seconds * 1e9).rounded())
        if nanoseconds == 0 { return "0s" }
        var text = ""
        let hours = nanoseconds / 3_600_000_000_000
        let minutes = nanoseconds / 60_000_000_000 % 60
        let rest = nanoseconds % 60_000_000_000
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        var fraction = String(rest % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        text += "\(rest / 1_000_000_000)" + (fraction.isEmpty ? "" : "." + fraction) + "s"
        return text
    }
}

/// One process's /proc/PID/{stat,status,cmdline}.
private struct ProcessInfoReader {
    var status: [String: String] = [:]
    var statFields: [Substring] = []
    var name = ""
    var arguments: [String] = []

    init?(pid: Int32) {
        guard let statusText = (try? FileSystem.readString("/proc/\(pid)/status")) ?? nil,
            let stat = (try? FileSystem.readString("/proc/\(pid)/stat")) ?? nil,
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { return nil }
        for line in statusText.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            status[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        name = String(stat[stat.index(after: open)..<close])
        // After "pid (comm) ": state is field 3; the list below starts there.
        statFields = stat[stat.index(after: close)...].split(separator: " ")
        let bytes = ((try? FileSystem.read("/proc/\(pid)/cmdline")) ?? nil) ?? []
        arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    private func field(_ number: Int) -> String { statFields.count > number - 3 ? String(statFields[number - 3]) : "0" }
    private func ids(_ key: String) -> [String] { (status[key] ?? "").split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init) }

    var namespacePID: String { ids("NSpid").last ?? "?" }
    var namespaceParentPID: String { status["PPid"] ?? "0" }
    var realUID: String { ids("Uid").first ?? "?" }
    var effectiveUID: String { ids("Uid").dropFirst().first ?? "?" }
    var realGID: String { ids("Gid").first ?? "?" }
    var effectiveGID: String { ids("Gid").dropFirst().first ?? "?" }
    var state: String { field(3) }
    var processGroup: String { field(5) }
    var nice: String { field(19) }
    var cpuTicks: Double { (Double(field(14)) ?? 0) + (Double(field(15)) ?? 0) }
    var startTicks: Double { Double(field(22)) ?? 0 }
    var virtualKilobytes: UInt64 { (UInt64(field(23)) ?? 0) / 1024 }
    var seccomp: String { ["0": "disabled", "1": "strict", "2": "filter"][status["Seccomp"] ?? ""] ?? "?" }
    var label: String { "unconfined" }
    var tty: String {
        let number = Int(field(7)) ?? 0
        guard number != 0 else { return "?" }
        let major = (number >> 8) & 0xfff
        let minor = (number & 0xff) | ((number >> 12) & 0xfff00)
        return major == 136 ? "pts/\(minor)" : "tty\(minor)"
    }

    func capabilities(_ key: String) -> String {
        guard let mask = UInt64(status[key] ?? "", radix: 16) else { return "?" }
        if mask == 0 { return "none" }
        let names = OCISpecBuilder.allCapabilities.enumerated().filter { mask & (1 << UInt64(capabilityBit($0.element))) != 0 }
            .map { String($0.element.dropFirst(4)) }
        return names.joined(separator: ",")
    }

    private func capabilityBit(_ name: String) -> Int {
        ProcessTable.capabilityBits[name] ?? 63
    }
}

extension ProcessTable {
    /// Kernel capability numbers by name.
    static let capabilityBits: [String: Int] = [
        "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4, "CAP_KILL": 5,
        "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10,
        "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
        "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20,
        "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25,
        "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30,
        "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
        "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
    ]
}

/// passwd- or group-style file: names by number, the number itself when absent.
private struct NameTable {
    var names: [String: String] = [:]

    init(path: String) {
        let text = ((try? FileSystem.readString(path)) ?? nil) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 2, names[String(fields[2])] == nil { names[String(fields[2])] = String(fields[0]) }
        }
    }

    func name(_ number: String) -> String { names[number] ?? number }
}
