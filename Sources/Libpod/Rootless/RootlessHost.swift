import Glibc

/// What a rootless runtime may do on this machine, found once at start: the user
/// namespace it runs in, whether cgroup limits can apply (cgroup v2 with controllers
/// delegated to the user; never on cgroup v1, where an ordinary user cannot have a
/// cgroup of its own), and the lowest port an ordinary user may bind.
public struct RootlessHost: Sendable {
    public var namespace: UserNamespace
    /// The user's own delegated cgroup (cgroup v2), under which containers' cgroups go;
    /// nil when limits cannot apply.
    public var delegatedCgroup: String?
    /// net.ipv4.ip_unprivileged_port_start.
    public var unprivilegedPortStart: UInt16

    /// This process's, or nil when it is rootful.
    public static let current: RootlessHost? = UserNamespace.current.isRootless ? probe() : nil

    public var cgroupLimitsApply: Bool { delegatedCgroup != nil }

    static func probe() -> RootlessHost {
        let portText = FileSystem.text("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        return RootlessHost(
            namespace: .current, delegatedCgroup: delegatedCgroup(),
            unprivilegedPortStart: UInt16(portText.filter(\.isNumber)) ?? 1024)
    }

    /// On a unified (v2) hierarchy, our cgroup when we may make children in it with the
    /// memory and pids controllers: what systemd's Delegate=yes gives a user's manager.
    static func delegatedCgroup() -> String? {
        // Only a unified hierarchy has cgroup.controllers at its root.
        guard access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 else { return nil }
        let own = FileSystem.text("/proc/self/cgroup").split(separator: "\n")
            .first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        guard let own else { return nil }
        let directory = "/sys/fs/cgroup" + (own == "/" ? "" : own)
        let controllers = FileSystem.text(directory + "/cgroup.controllers").split(separator: " ").map { $0.trimmingNewline }
        guard access(directory + "/cgroup.subtree_control", W_OK) == 0, controllers.contains("memory"), controllers.contains("pids")
        else { return nil }
        return own
    }

    /// A create that asks for limits that cannot apply is refused, never run unlimited.
    func checkLimits(_ resources: ResourceLimits) throws(LibpodError) {
        guard !cgroupLimitsApply else { return }
        let asked = resources.cgroupLimitNames
        guard !asked.isEmpty else { return }
        throw .unsupported(
            feature: "resource limits (\(asked.joined(separator: ", "))) for rootless containers on this machine",
            advice: "this machine has cgroup v1 (or cgroup v2 without controllers delegated to this user), where an ordinary "
                + "user cannot be given a cgroup: create the container without these limits, run it as root, or use a "
                + "cgroup v2 host whose user manager delegates memory, pids and cpu (systemd's Delegate=yes)")
    }

    /// Published host ports below net.ipv4.ip_unprivileged_port_start cannot be bound.
    func checkPorts(_ mappings: [PortMapping]) throws(LibpodError) {
        guard let low = mappings.first(where: { $0.hostPort < unprivilegedPortStart }) else { return }
        throw .unsupported(
            feature: "publishing port \(low.hostPort) rootless (ports below \(unprivilegedPortStart) need root)",
            advice: "publish a port of \(unprivilegedPortStart) or above, or let users bind lower ports with "
                + "`sysctl net.ipv4.ip_unprivileged_port_start=\(low.hostPort)` (as root; persist it in /etc/sysctl.d)")
    }
}

extension ResourceLimits {
    /// podman's flag for each cgroup limit set (oom_score_adj is a process setting, not one).
    var cgroupLimitNames: [String] {
        var names: [String] = []
        if memory != nil { names.append("--memory") }
        if memoryReservation != nil { names.append("--memory-reservation") }
        if memorySwap != nil { names.append("--memory-swap") }
        if memorySwappiness != nil { names.append("--memory-swappiness") }
        if kernelMemory != nil { names.append("--kernel-memory") }
        if oomKillDisable { names.append("--oom-kill-disable") }
        if pids != nil { names.append("--pids-limit") }
        if cpuShares != nil { names.append("--cpu-shares") }
        if cpuPeriod != nil { names.append("--cpu-period") }
        if cpuQuota != nil { names.append("--cpu-quota") }
        if cpuRealtimePeriod != nil || cpuRealtimeRuntime != nil { names.append("--cpu-rt-*") }
        if cpusetCpus != nil { names.append("--cpuset-cpus") }
        if cpusetMems != nil { names.append("--cpuset-mems") }
        if blkioWeight != nil || !blkioWeightDevices.isEmpty { names.append("--blkio-weight") }
        if !deviceReadBps.isEmpty || !deviceWriteBps.isEmpty || !deviceReadIOps.isEmpty || !deviceWriteIOps.isEmpty {
            names.append("--device-read/write-bps/iops")
        }
        return names
    }
}

extension Substring {
    fileprivate var trimmingNewline: Substring { last == "\n" ? dropLast() : self }
}
