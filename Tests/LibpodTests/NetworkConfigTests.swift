import Foundation
import Glibc
@testable import Libpod
import PodlinkTestSupport
import Testing

/// The parts of networking that need no root: `-p` parsing, subnets, the configuration
/// files `network create` writes, the CNI protocol as a plugin sees it (a scripted plugin),
/// and the masquerade rules released after a reboot.
struct NetworkConfigTests {
    // MARK: - Published ports

    @Test(arguments: [
        ("80", [PortMapping(hostPort: 80, containerPort: 80)]),
        ("8080:80", [PortMapping(hostPort: 8080, containerPort: 80)]),
        ("127.0.0.1:8080:80/udp", [PortMapping(hostIP: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "udp")]),
        ("127.0.0.1::80", [PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: 80)]),
        ("[::1]:8080:80", [PortMapping(hostIP: "::1", hostPort: 8080, containerPort: 80)]),
        ("8000-8001:80-81/sctp", [
            PortMapping(hostPort: 8000, containerPort: 80, protocol: "sctp"), PortMapping(hostPort: 8001, containerPort: 81, protocol: "sctp"),
        ]),
    ])
    func publishSpecifications(_ text: String, _ expected: [PortMapping]) throws {
        #expect(try PortMapping.parse(text) == expected)
    }

    @Test(arguments: [
        ("80/icmp", "icmp is not tcp, udp or sctp"), ("1:2:3:4", "too many ':'"), ("0", "is not a port"),
        ("host:8080:80", "host is not an IP address"), ("8000-8002:80-81", "the host range has 3 ports and the container range 2"),
        ("90-80", "is not a port"),
    ])
    func badPublishSpecificationsSayWhatIsWrong(_ text: String, _ message: String) {
        #expect {
            try PortMapping.parse(text)
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("[ip:][hostPort:]containerPort")
        }
    }

    // MARK: - Subnets

    @Test func subnetArithmetic() throws {
        let subnet = try #require(IPSubnet("10.89.3.77/24"))
        #expect(subnet.description == "10.89.3.0/24")
        #expect(IPSubnet.format(subnet.address(at: 1)) == "10.89.3.1")
        #expect(IPSubnet.format(subnet.lastHost) == "10.89.3.254")
        #expect(subnet.contains(IPSubnet.parse("10.89.3.200")!))
        #expect(!subnet.contains(IPSubnet.parse("10.89.4.1")!))
        #expect(subnet.overlaps(IPSubnet("10.89.0.0/16")!))
        #expect(!subnet.overlaps(IPSubnet("10.89.4.0/24")!))
        let v6 = try #require(IPSubnet("fd00:1:2::/64"))
        #expect(IPSubnet.format(v6.address(at: 1)) == "fd00:1:2::1")
        #expect(IPSubnet("10.0.0.0/33") == nil && IPSubnet("nonsense/8") == nil)
    }

    // MARK: - network create

    @Test func createChoosesFreeSubnetsAndBridgesAndRefusesClashes() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let directory = CNIConfigDirectory(directory: scratch.root + "/cni")
        let fallback = try directory.ensureDefault(named: "podman")
        #expect(fallback.file.hasSuffix("/87-podman-bridge.conflist"))
        #expect(fallback.pluginTypes == ["bridge", "portmap", "firewall", "tuning"])
        #expect(fallback.bridgeName == "cni-podman0" && fallback.subnets == ["10.88.0.0/16"])

        let first = try directory.create(CNINetworkRequest(name: "one"), dnsnameAvailable: true)
        #expect(first.bridgeName == "cni-podman1" && first.subnets == ["10.89.0.0/24"])
        #expect(first.pluginTypes.last == "dnsname")
        let second = try directory.create(CNINetworkRequest(name: "two", dnsname: false), dnsnameAvailable: true)
        #expect(second.bridgeName == "cni-podman2" && second.subnets == ["10.89.1.0/24"] && !second.pluginTypes.contains("dnsname"))
        let ranged = try directory.create(
            CNINetworkRequest(name: "ranged", subnet: "192.168.50.0/24", ipRange: "192.168.50.128/25", internal: true), dnsnameAvailable: false)
        let range = ranged.plugins[0]["ipam"]?["ranges"]?.arrayValue?.first?.arrayValue?.first
        #expect(range?["rangeStart"]?.stringValue == "192.168.50.129" && range?["rangeEnd"]?.stringValue == "192.168.50.254")
        #expect(range?["gateway"] == nil && ranged.plugins[0]["ipMasq"]?.boolValue == false, "internal: no gateway, no masquerade")
        #expect(try directory.networks().map(\.name) == ["podman", "one", "ranged", "two"])

        #expect { try directory.create(CNINetworkRequest(name: "one"), dnsnameAvailable: false) } throws: { "\($0)".contains("exists already") }
        #expect { try directory.create(CNINetworkRequest(name: "clash", subnet: "10.88.5.0/24"), dnsnameAvailable: false) } throws: {
            "\($0)".contains("overlaps 10.88.0.0/16")
        }
        #expect { try directory.create(CNINetworkRequest(name: "gw", subnet: "10.70.0.0/24", gateway: "10.71.0.1"), dnsnameAvailable: false) } throws: {
            "\($0)".contains("not an address in 10.70.0.0/24")
        }
        #expect { try directory.network("absent") } throws: { error in
            guard case LibpodError.networkNotFound(let name, _, let known) = error else { return false }
            return name == "absent" && known.contains("one")
        }
        try directory.remove("one")
        #expect(try directory.networks().map(\.name) == ["podman", "ranged", "two"])
    }

    @Test func aBrokenConfigurationFileIsNamedWithWhatIsWrong() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        _ = scratch.write("cni/10-broken.conflist", #"{"cniVersion": "0.4.0", "plugins": []}"#)
        #expect { try CNIConfigDirectory(directory: scratch.root + "/cni").networks() } throws: { error in
            "\(error)".contains("10-broken.conflist") && "\(error)".contains("has no \"name\"")
        }
    }

    // MARK: - The CNI protocol

    /// A plugin that records what it was given (its environment and stdin) and answers as
    /// the script says.
    static func scriptedPlugin(in directory: String, type: String, answer: String, status: Int32 = 0) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            env | grep ^CNI_ | sort > "\(directory)/\(type).$CNI_COMMAND.env"
            cat > "\(directory)/\(type).$CNI_COMMAND.stdin"
            printf '%s' '\(answer)'
            exit \(status)
            """
        try script.write(toFile: "\(directory)/\(type)", atomically: true, encoding: .utf8)
        chmod("\(directory)/\(type)", 0o755)
    }

    @Test func pluginsGetTheProtocolsEnvironmentConfigAndPreviousResult() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let plugins = scratch.root + "/plugins"
        let result = #"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.5.0.2/24","gateway":"10.5.0.1"}]}"#
        try Self.scriptedPlugin(in: plugins, type: "first", answer: result)
        try Self.scriptedPlugin(in: plugins, type: "second", answer: result)
        let network = CNINetwork(
            name: "test", cniVersion: "0.4.0",
            plugins: [["type": "first", "option": 7], ["type": "second", "capabilities": ["portMappings": true, "aliases": true]]],
            file: "")
        let attachment = CNIExecutor.Attachment(
            network: "test", interface: "eth0", containerID: "abc", containerName: "web",
            portMappings: [PortMapping(hostPort: 8080, containerPort: 80)], staticIP: "10.5.0.9")
        let executor = CNIExecutor(pluginDirectories: ["/nonexistent", plugins])
        let added = try await executor.add(network, attachment, netns: "/run/netns/x")
        #expect(added["ips"]?.arrayValue?.first?["address"]?.stringValue == "10.5.0.2/24")

        let environment = try String(contentsOfFile: plugins + "/first.ADD.env", encoding: .utf8)
        #expect(environment.contains("CNI_COMMAND=ADD\n") && environment.contains("CNI_CONTAINERID=abc\n"))
        #expect(environment.contains("CNI_NETNS=/run/netns/x\n") && environment.contains("CNI_IFNAME=eth0\n"))
        #expect(environment.contains("CNI_PATH=/nonexistent:\(plugins)\n"))
        #expect(environment.contains("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.5.0.9\n"))
        let first = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plugins + "/first.ADD.stdin"))) as? [String: Any]
        #expect(first?["name"] as? String == "test" && first?["cniVersion"] as? String == "0.4.0" && first?["option"] as? Int == 7)
        #expect(first?["prevResult"] == nil && first?["runtimeConfig"] == nil, "no capabilities declared, none given")
        let second = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plugins + "/second.ADD.stdin"))) as? [String: Any]
        #expect((second?["prevResult"] as? [String: Any])?["ips"] != nil, "the chain passes the previous result on")
        let runtimeConfig = second?["runtimeConfig"] as? [String: Any]
        #expect((runtimeConfig?["portMappings"] as? [[String: Any]])?.first?["hostPort"] as? Int == 8080)
        #expect(((runtimeConfig?["aliases"] as? [String: Any])?["test"] as? [String]) == ["web"])

        // DEL runs the chain backwards, each with the result ADD returned.
        let failures = await executor.delete(network, attachment, netns: "", result: added)
        #expect(failures.isEmpty)
        let deleted = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plugins + "/first.DEL.stdin"))) as? [String: Any]
        #expect((deleted?["prevResult"] as? [String: Any])?["ips"] != nil)
        #expect(try String(contentsOfFile: plugins + "/first.DEL.env", encoding: .utf8).contains("CNI_NETNS=\n"))
    }

    @Test func aPluginsErrorIsReportedWithItsMessageAndTheChainIsUndone() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let plugins = scratch.root + "/plugins"
        try Self.scriptedPlugin(in: plugins, type: "good", answer: #"{"cniVersion":"0.4.0"}"#)
        try Self.scriptedPlugin(in: plugins, type: "bad", answer: #"{"code":11,"msg":"no more addresses","details":"range 10.5.0.0/30 is full"}"#, status: 1)
        let network = CNINetwork(name: "test", cniVersion: "0.4.0", plugins: [["type": "good"], ["type": "bad"], ["type": "never"]], file: "")
        let attachment = CNIExecutor.Attachment(network: "test", interface: "eth0", containerID: "abc", containerName: "web")
        await #expect {
            try await CNIExecutor(pluginDirectories: [plugins]).add(network, attachment, netns: "/run/netns/x")
        } throws: { error in
            "\(error)" == "CNI plugin bad (ADD) of network test failed: no more addresses: range 10.5.0.0/30 is full"
        }
        #expect(FileManager.default.fileExists(atPath: plugins + "/good.DEL.stdin"), "what ran before the failure is undone")
        #expect(!FileManager.default.fileExists(atPath: plugins + "/never.ADD.stdin"))

        let missing = CNINetwork(name: "test", cniVersion: "0.4.0", plugins: [["type": "absent"]], file: "")
        await #expect {
            try await CNIExecutor(pluginDirectories: [plugins]).add(missing, attachment, netns: "")
        } throws: { "\($0)".contains("CNI plugin \"absent\"") && "\($0)".contains("containernetworking-plugins") }
    }

    @Test func portmapAndTuningAreNotAskedWhenTheContainerWantsNothingOfThem() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let plugins = scratch.root + "/plugins"
        for type in ["bridge", "portmap", "tuning"] { try Self.scriptedPlugin(in: plugins, type: type, answer: #"{"cniVersion":"0.4.0"}"#) }
        let network = CNINetwork(
            name: "podman", cniVersion: "0.4.0",
            plugins: [["type": "bridge"], ["type": "portmap", "capabilities": ["portMappings": true]], ["type": "tuning"]], file: "")
        let executor = CNIExecutor(pluginDirectories: [plugins])
        var attachment = CNIExecutor.Attachment(network: "podman", interface: "eth0", containerID: "abc", containerName: "web")
        let result = try await executor.add(network, attachment, netns: "/run/netns/x")
        _ = await executor.delete(network, attachment, netns: "", result: result)
        let ran = Set((try FileManager.default.contentsOfDirectory(atPath: plugins)).filter { $0.hasSuffix(".stdin") })
        #expect(ran == ["bridge.ADD.stdin", "bridge.DEL.stdin"])

        attachment.portMappings = [PortMapping(hostPort: 8080, containerPort: 80)]
        attachment.staticMAC = "92:d0:c6:0a:29:33"
        _ = try await executor.add(network, attachment, netns: "/run/netns/x")
        for type in ["portmap", "tuning"] { #expect(FileManager.default.fileExists(atPath: "\(plugins)/\(type).ADD.stdin")) }
        // A tuning plugin with settings of its own is always asked.
        #expect(!CNIExecutor.hasNothingToDo(["type": "tuning", "sysctl": ["net.core.somaxconn": "500"]], for: CNIExecutor.Attachment(
            network: "podman", interface: "eth0", containerID: "abc", containerName: "web")))
    }

    // MARK: - After a reboot

    @Test func staleMasqueradeRulesOfOneContainerAndTheirChainGo() throws {
        let id = "88a98b90b5f2856789bd8b63acaa0128d3825bffbdc42a62235218386da5521e"
        let other = "1111111111111111111111111111111111111111111111111111111111111111"
        func comment(_ container: String) -> String { #"-m comment --comment "name: \"podman\" id: \"\#(container)\"""# }
        let saved = """
            # Generated by iptables-save
            *nat
            :POSTROUTING ACCEPT [0:0]
            :CNI-23ef9591d5f515a0228c1cf7 - [0:0]
            :CNI-aaaaaaaaaaaaaaaaaaaaaaaa - [0:0]
            -A POSTROUTING -s 10.88.2.253/32 \(comment(id)) -j CNI-23ef9591d5f515a0228c1cf7
            -A POSTROUTING -s 10.88.2.9/32 \(comment(other)) -j CNI-aaaaaaaaaaaaaaaaaaaaaaaa
            -A CNI-23ef9591d5f515a0228c1cf7 -d 10.88.0.0/16 \(comment(id)) -j ACCEPT
            -A CNI-23ef9591d5f515a0228c1cf7 ! -d 224.0.0.0/4 \(comment(id)) -j MASQUERADE
            -A CNI-aaaaaaaaaaaaaaaaaaaaaaaa -d 10.88.0.0/16 \(comment(other)) -j ACCEPT
            COMMIT
            """
        let script = try #require(StaleMasqueradeRules.deletionScript(natTable: saved, containerID: id))
        #expect(script == """
            *nat
            -D POSTROUTING -s 10.88.2.253/32 \(comment(id)) -j CNI-23ef9591d5f515a0228c1cf7
            -D CNI-23ef9591d5f515a0228c1cf7 -d 10.88.0.0/16 \(comment(id)) -j ACCEPT
            -D CNI-23ef9591d5f515a0228c1cf7 ! -d 224.0.0.0/4 \(comment(id)) -j MASQUERADE
            -X CNI-23ef9591d5f515a0228c1cf7
            COMMIT

            """)
        #expect(StaleMasqueradeRules.deletionScript(natTable: saved, containerID: String(repeating: "2", count: 64)) == nil)
    }
}
