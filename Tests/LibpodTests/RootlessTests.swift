import Foundation
import Glibc
@testable import Libpod
import Testing

/// The rootless pieces that need no user: id files, mappings, what the spec of a
/// rootless container leaves out, and the refusals.
struct RootlessUnitTests {
    @Test("/etc/subuid lines by name or uid, several ranges, mapped after the user")
    func subordinateIDs() {
        let text = "alice:100000:65536\n# not a range\nbob:200000:65536\n1001:300000:1000\nalice:400000:10\nbroken:line\ncarol:5:0\n"
        let alice = SubordinateIDs.parse(text, name: "alice", id: 1000)
        #expect(alice.ranges == [.init(start: 100_000, count: 65536), .init(start: 400_000, count: 10)])
        #expect(alice.mappings(hostID: 1000) == [
            IDMapping(inside: 0, outside: 1000, count: 1), IDMapping(inside: 1, outside: 100_000, count: 65536),
            IDMapping(inside: 65537, outside: 400_000, count: 10),
        ])
        #expect(SubordinateIDs.parse(text, name: "dave", id: 1001).ranges == [.init(start: 300_000, count: 1000)])
        #expect(SubordinateIDs.parse(text, name: "carol", id: 1002).isEmpty)
    }

    @Test("uid_map lines and what a namespace maps")
    func namespaceMappings() {
        let mappings = IDMapping.parse("         0       1001          1\n         1     100000      65536\n")
        let namespace = UserNamespace(uidMappings: mappings, gidMappings: mappings)
        #expect(!namespace.isInitial)
        #expect(namespace.hostUID == 1001)
        #expect(namespace.mappedUIDCount == 65537)
        #expect(namespace.mapsUID(0) && namespace.mapsUID(65536) && !namespace.mapsUID(65537))
        #expect(namespace.hostUID(of: 1000) == 100_999)
        let initial = UserNamespace(uidMappings: [IDMapping(inside: 0, outside: 0, count: UInt32.max)], gidMappings: [])
        #expect(initial.isInitial)
    }

    static func host(mappings: [IDMapping], delegated: String? = nil) -> RootlessHost {
        RootlessHost(
            namespace: UserNamespace(uidMappings: mappings, gidMappings: mappings), delegatedCgroup: delegated,
            unprivilegedPortStart: 1024)
    }

    static func spec(network: NetworkMode, rootless: RootlessHost?, resources: ResourceLimits = ResourceLimits()) throws -> [String: Any] {
        var config = ContainerConfig(id: String(repeating: "a", count: 64), name: "c")
        config.network = network
        config.resources = resources
        let environment = OCISpecBuilder.Environment(
            rootfs: "/rootfs", runDir: "/run/x", user: ResolvedUser(uid: 0, gid: 0, additionalGids: []), cgroupParent: "/podlink",
            rootless: rootless)
        let data = try OCISpecBuilder.build(config: config, environment: environment).encoded()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("A rootless spec on cgroup v1: no cgroup, no resources; a delegated v2 cgroup keeps both")
    func cgroups() throws {
        var limits = ResourceLimits()
        limits.memory = 1 << 26
        let full = [IDMapping(inside: 0, outside: 1000, count: 1), IDMapping(inside: 1, outside: 100_000, count: 65536)]
        let v1 = try Self.spec(network: .none, rootless: Self.host(mappings: full), resources: limits)
        let linux = try #require(v1["linux"] as? [String: Any])
        #expect(linux["cgroupsPath"] == nil && linux["resources"] == nil)
        let v2 = try Self.spec(network: .none, rootless: Self.host(mappings: full, delegated: "/user.slice/u"), resources: limits)
        let linux2 = try #require(v2["linux"] as? [String: Any])
        #expect((linux2["cgroupsPath"] as? String)?.hasPrefix("/user.slice/u/podlink/podlink-") == true)
        #expect(((linux2["resources"] as? [String: Any])?["memory"] as? [String: Any])?["limit"] as? Int == 1 << 26)
        let rootful = try #require(try Self.spec(network: .none, rootless: nil)["linux"] as? [String: Any])
        #expect((rootful["cgroupsPath"] as? String)?.hasPrefix("/podlink/podlink-") == true)
    }

    @Test("devpts without gid=5 when only the user is mapped; /sys bound from the host with host networking")
    func mounts() throws {
        func mounts(_ spec: [String: Any]) -> [[String: Any]] { spec["mounts"] as? [[String: Any]] ?? [] }
        func options(_ spec: [String: Any], _ destination: String) -> [String] {
            mounts(spec).first { $0["destination"] as? String == destination }?["options"] as? [String] ?? []
        }
        let single = try Self.spec(network: .none, rootless: Self.host(mappings: [IDMapping(inside: 0, outside: 1000, count: 1)]))
        #expect(!options(single, "/dev/pts").contains("gid=5"))
        let full = Self.host(mappings: [IDMapping(inside: 0, outside: 1000, count: 1), IDMapping(inside: 1, outside: 100_000, count: 65536)])
        #expect(options(try Self.spec(network: .none, rootless: full), "/dev/pts").contains("gid=5"))
        let hostNetwork = try Self.spec(network: .host, rootless: full)
        #expect(mounts(hostNetwork).first { $0["destination"] as? String == "/sys" }?["type"] as? String == "bind")
        #expect(mounts(try Self.spec(network: .host, rootless: nil)).first { $0["destination"] as? String == "/sys" }?["type"] as? String == "sysfs")
    }

    @Test("Limits on cgroup v1 and low ports are refused with what to do")
    func refusals() {
        let host = Self.host(mappings: [IDMapping(inside: 0, outside: 1000, count: 1)])
        var limits = ResourceLimits()
        limits.pids = 10
        limits.cpuShares = 512
        limits.oomScoreAdj = 100
        let limited = #expect(throws: LibpodError.self) { try host.checkLimits(limits) }.map { "\($0)" } ?? ""
        #expect(limited.contains("--pids-limit, --cpu-shares") && limited.contains("cgroup v1"))
        var processOnly = ResourceLimits()
        processOnly.oomScoreAdj = 100
        #expect(throws: Never.self) { try host.checkLimits(processOnly) }
        let message = #expect(throws: LibpodError.self) {
            try host.checkPorts([PortMapping(hostPort: 8080, containerPort: 80), PortMapping(hostPort: 443, containerPort: 443)])
        }.map { "\($0)" } ?? ""
        #expect(message.contains("443") && message.contains("sysctl net.ipv4.ip_unprivileged_port_start=443"))
    }

    @Test("rootless CNI names and `slirp4netns` parse and print back")
    func networkMode() {
        #expect(NetworkMode(parsing: "slirp4netns") == .slirp4netns)
        #expect(NetworkMode.slirp4netns.description == "slirp4netns")
        #expect(NetworkMode.slirp4netns.hasRuntimeNamespace && !NetworkMode.slirp4netns.usesCNI)
    }
}
