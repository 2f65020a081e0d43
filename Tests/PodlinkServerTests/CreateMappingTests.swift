import Libpod
import PodlinkInterfaces
@testable import PodlinkServer
import Testing

/// io.podman's Create onto Libpod's options: what podman-remote and python-podman send
/// is honoured, and what cannot be is refused naming the field. No runtime needed.
@Suite struct CreateMappingTests {
    private func options(_ configure: (inout IoPodman.Create) -> Void) throws -> ContainerCreateOptions {
        var create = IoPodman.Create(args: ["busybox"])
        configure(&create)
        return try CreateMapping.options(from: create)
    }

    private func refusal(_ configure: (inout IoPodman.Create) -> Void) -> String? {
        do {
            _ = try options(configure)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func whatPodmanRemoteSendsForCreateMapsOneToOne() throws {
        // create --network none --name x localhost/busybox true (recorded on the wire)
        let mapped = try options { $0.args = ["localhost/busybox", "true"]; $0.name = "x"; $0.network = "none" }
        #expect(mapped.image == "localhost/busybox" && mapped.command == ["true"] && mapped.name == "x" && mapped.network == .none)
        #expect(mapped.resources == ResourceLimits() && mapped.security == SecuritySettings())
    }

    @Test func pythonPodmansCreateIsHonouredOnTheDefaultBridge() throws {
        // args from RepoTags and Cmd, command again, env as bare names, network bridge.
        let mapped = try options { $0.args = ["localhost/busybox:latest", "sh"]; $0.command = ["sh"]; $0.env = ["PATH", "A"]; $0.network = "bridge" }
        #expect(mapped.command == ["sh"] && mapped.env == ["PATH", "A"] && mapped.network == .bridge([]))
        #expect(try options { _ in }.network == .bridge([]), "an absent network is podman's default, bridge")
    }

    @Test func networkFieldsMapOntoTheNetworkSettings() throws {
        let mapped = try options {
            $0.network = "front,back"; $0.publish = ["8080:80", "127.0.0.1:5353:53/udp"]; $0.publishAll = true
        }
        #expect(mapped.network == .bridge(["front", "back"]) && mapped.publishAll)
        #expect(mapped.portMappings == [
            PortMapping(hostPort: 8080, containerPort: 80), PortMapping(hostIP: "127.0.0.1", hostPort: 5353, containerPort: 53, protocol: "udp"),
        ])
        let fixed = try options { $0.ip = "10.88.0.77"; $0.macAddress = "92:D0:C6:0A:29:33" }
        #expect(fixed.staticIP == "10.88.0.77" && fixed.staticMAC == "92:d0:c6:0a:29:33")
        #expect(try options { $0.network = "container:web" }.network == .container("web"))
        #expect(try options { $0.network = "ns:/proc/1/ns/net" }.network == .path("/proc/1/ns/net"))
        #expect(try options { $0.network = "host" }.network == .host)
    }

    @Test func resourceFlagsBecomeLimits() throws {
        let mapped = try options {
            $0.memory = "512m"; $0.memoryReservation = "256m"; $0.memorySwap = "-1"; $0.memorySwappiness = 10
            $0.cpus = 1.5; $0.cpuShares = 512; $0.cpuSetCpus = "0"; $0.pidsLimit = 100; $0.oomScoreAdj = 300
            $0.blkioWeight = "500"; $0.shmSize = "128m"; $0.ulimit = ["nofile=1024:2048", "core=-1"]
            $0.sysctl = ["net.ipv4.ip_forward=1"]
        }
        let limits = mapped.resources
        #expect(limits.memory == 512 << 20 && limits.memoryReservation == 256 << 20 && limits.memorySwap == -1)
        #expect(limits.memorySwappiness == 10 && limits.cpuPeriod == 100_000 && limits.cpuQuota == 150_000)
        #expect(limits.cpuShares == 512 && limits.cpusetCpus == "0" && limits.pids == 100 && limits.oomScoreAdj == 300)
        #expect(limits.blkioWeight == 500 && mapped.shmSize == 128 << 20)
        #expect(mapped.ulimits == [Ulimit(name: "nofile", soft: 1024, hard: 2048), Ulimit(name: "core", soft: .max, hard: .max)])
        #expect(mapped.sysctls == ["net.ipv4.ip_forward": "1"])
    }

    @Test func securityNamespaceAndFileFlags() throws {
        let mapped = try options {
            $0.capAdd = ["net_admin"]; $0.capDrop = ["CAP_CHOWN"]; $0.privileged = true; $0.groupadd = ["wheel"]
            $0.securityOpt = ["no-new-privileges", "label=disable", "seccomp=unconfined"]
            $0.ipc = "host"; $0.pid = "container:web"; $0.uts = "ns:/proc/1/ns/uts"
            $0.dns = ["192.0.2.53"]; $0.dnsSearch = ["example.test"]; $0.addHost = ["db:192.0.2.7"]
            $0.tmpfs = ["/scratch:size=1m"]; $0.volume = ["/srv:/srv:ro,Z"]
            $0.mount = ["type=bind,source=/etc,destination=/host-etc,ro", "type=tmpfs,destination=/t,tmpfs-size=64k"]
            $0.device = ["/dev/null:/dev/quiet:rw"]; $0.readonly = true; $0.readonlytmpfs = false
        }
        #expect(mapped.security.capAdd == ["CAP_NET_ADMIN"] && mapped.security.capDrop == ["CAP_CHOWN"])
        #expect(mapped.security.privileged && mapped.security.noNewPrivileges && mapped.security.groupAdd == ["wheel"])
        #expect(mapped.namespaces.ipc == .host && mapped.namespaces.pid == .container("web") && mapped.namespaces.uts == .path("/proc/1/ns/uts"))
        #expect(mapped.nameResolution.dnsServers == ["192.0.2.53"] && mapped.nameResolution.extraHosts == ["db:192.0.2.7"])
        #expect(Set(mapped.tmpfs.map(\.destination)) == ["/scratch", "/t"])
        #expect(mapped.tmpfs.first { $0.destination == "/t" }?.options.contains("size=64k") == true)
        #expect(mapped.mounts == [BindMount(source: "/srv", destination: "/srv", readOnly: true), BindMount(source: "/etc", destination: "/host-etc", readOnly: true)])
        #expect(mapped.devices == [DeviceMapping(hostPath: "/dev/null", containerPath: "/dev/quiet", permissions: "rw")])
        #expect(mapped.readOnlyRootfs && !mapped.readOnlyTmpfs)
    }

    @Test func lifecycleFlags() throws {
        let mapped = try options {
            $0.restart = "on-failure:3"; $0.stopSignal = "SIGINT"; $0.stopTimeout = 4; $0.rm = false
            $0.healthcheckCommand = "[\"CMD\",\"true\"]"; $0.healthcheckInterval = "1m30s"; $0.healthcheckRetries = 5
            $0.healthcheckTimeout = "500ms"; $0.logDriver = "json-file"; $0.logOpt = ["max-size=10k", "tag=web"]
            $0.annotation = ["org.example=1"]; $0.label = ["a=b", "flag"]; $0.expose = ["80", "53/udp"]
        }
        #expect(mapped.restartPolicy == RestartPolicy(name: .onFailure, maximumRetries: 3) && mapped.stopSignal == 2 && mapped.stopTimeout == 4)
        #expect(mapped.healthcheck == HealthcheckConfig(test: ["CMD", "true"], interval: 90, timeout: 0.5, retries: 5))
        #expect(mapped.log.driver == .k8sFile && mapped.log.maxSize == 10 << 10 && mapped.log.tag == "web")
        #expect(mapped.annotations == ["org.example": "1"] && mapped.labels == ["a": "b", "flag": ""])
        #expect(mapped.exposedPorts == ["80", "53/udp"])
        let shell = try options { $0.healthcheckCommand = "curl -f localhost" }
        #expect(shell.healthcheck?.test == ["CMD-SHELL", "curl -f localhost"])
    }

    @Test(arguments: [
        ("publish", "tcp, udp or sctp"), ("network", "network names"), ("imageVolume", "bind (anonymous volumes)"), ("uidmap", "user namespaces"),
        ("pull", "always, missing or never"), ("overrideArch", "override-arch"), ("rootfs", "import"), ("logDriver", "journald"),
        ("securityOpt", "seccomp"), ("volume", "NAME:/container/path"), ("healthcheckRetries", "healthcheckCommand"),
        ("cidFile", "absolute"), ("ulimit", "name=soft"), ("dns", "IP address"), ("device", "/dev/HOST"),
    ])
    func unsupportedValuesAreRefusedByName(field: String, explanation: String) {
        let reason = refusal { create in
            switch field {
            case "publish": create.publish = ["8080:80/icmp"]
            case "imageVolume": create.imageVolume = "bogus"
            case "uidmap": create.uidmap = ["0:100000:65536"]
            case "pull": create.pull = "sometimes"
            case "overrideArch": create.overrideArch = "s390x"
            case "rootfs": create.rootfs = true
            case "logDriver": create.logDriver = "journald"
            case "securityOpt": create.securityOpt = ["seccomp=/etc/profile.json"]
            case "network": create.network = "front,other:1"
            case "volume": create.volume = ["data:relative"]
            case "healthcheckRetries": create.healthcheckRetries = 2
            case "cidFile": create.cidFile = "relative/cid"
            case "ulimit": create.ulimit = ["nofile"]
            case "dns": create.dns = ["not-an-address"]
            default: create.device = [""]
            }
        }
        #expect(reason?.contains("create.\(field)") == true && reason?.contains(explanation) == true, "\(field): \(reason ?? "accepted")")
    }

    @Test func fieldsAtPodmansDefaultsAreNoOps() throws {
        let mapped = try options {
            $0.publish = []; $0.publishAll = false; $0.ip = ""; $0.pod = ""; $0.pull = "missing"; $0.userns = ""
            $0.detach = true; $0.quiet = true; $0.attach = ["stdout"]; $0.imageVolume = "bind"; $0.systemd = "true"
            $0.overrideOS = "linux"; $0.`init` = false
        }
        var expected = ContainerCreateOptions(image: "busybox")
        expected.network = .bridge([])
        #expect(mapped == expected)
    }

    @Test func durationsAreGoDurations() throws {
        #expect(try CreateMapping.duration("1h2m3.5s", "x") == 3723.5)
        #expect(try CreateMapping.duration("250ms", "x") == 0.25)
        #expect(throws: CreateError.self) { try CreateMapping.duration("30", "x") }
        #expect(throws: CreateError.self) { try CreateMapping.duration("3d", "x") }
    }
}
