import Foundation

/// Runs a network's plugin chain with the CNI protocol: each plugin is a program, told
/// what to do by `CNI_*` environment variables and its configuration on stdin (with the
/// network's name and version, the previous plugin's result, and the runtime's
/// arguments for the capabilities it declares); it answers with a result or an error,
/// as JSON on stdout.
struct CNIExecutor: Sendable {
    /// Where plugins are looked for (cni_plugin_dir), in order.
    let pluginDirectories: [String]

    /// What the runtime tells the plugins about one container on one network.
    struct Attachment: Sendable, Codable, Equatable {
        var network: String
        var interface: String
        var containerID: String
        /// The container's name, for plugins that register it (dnsname).
        var containerName: String
        var portMappings: [PortMapping] = []
        var staticIP: String?
        var staticMAC: String?
    }

    /// ADD: the chain in order, each plugin given the result so far; returns the last
    /// result. `progress` gets each plugin's result as it comes (so that a crash half-way
    /// still knows the addresses DEL needs). A plugin that fails leaves what the earlier
    /// ones did undone again (DEL), and its message is the error.
    func add(
        _ network: CNINetwork, _ attachment: Attachment, netns: String,
        progress: (JSONAny) throws(LibpodError) -> Void = { _ in }
    ) async throws(LibpodError) -> JSONAny {
        var previous: JSONAny?
        for (index, plugin) in network.plugins.enumerated() where !Self.hasNothingToDo(plugin, for: attachment) {
            do throws(LibpodError) {
                let result = try await run("ADD", plugin, network: network, attachment: attachment, netns: netns, previous: previous)
                previous = result
                try progress(result)
            } catch {
                let done = CNINetwork(name: network.name, cniVersion: network.cniVersion, plugins: Array(network.plugins.prefix(index + 1)), file: network.file)
                _ = await delete(done, attachment, netns: netns, result: previous)
                throw error
            }
        }
        return previous ?? .object([:])
    }

    /// DEL: the chain in reverse, each plugin given the result ADD returned. Every
    /// plugin is asked even when one fails (what each set up is its own to undo); the
    /// failures are returned, described.
    func delete(_ network: CNINetwork, _ attachment: Attachment, netns: String, result: JSONAny?) async -> [String] {
        var failures: [String] = []
        for plugin in network.plugins.reversed() where !Self.hasNothingToDo(plugin, for: attachment) {
            do throws(LibpodError) {
                _ = try await run("DEL", plugin, network: network, attachment: attachment, netns: netns, previous: result)
            } catch {
                failures.append(error.description)
            }
        }
        return failures
    }

    /// Two plugins of podman's default chain pass the result on untouched unless the
    /// container asks them for something: portmap without published ports, tuning
    /// without a setting (its configuration is its type alone) or a MAC address. Each
    /// run is a process (and portmap's DEL runs iptables looking for rules it never
    /// made), a fifth of what connecting costs, so they are not asked; what ADD skips,
    /// DEL skips too, since it is decided by the same configuration and attachment.
    static func hasNothingToDo(_ plugin: [String: JSONAny], for attachment: Attachment) -> Bool {
        switch plugin["type"]?.stringValue {
        case "portmap": return attachment.portMappings.isEmpty
        case "tuning": return attachment.staticMAC == nil && Set(plugin.keys).isSubset(of: ["type", "capabilities", "name", "cniVersion"])
        default: return false
        }
    }

    /// CHECK: the chain in order against the result ADD returned.
    func check(_ network: CNINetwork, _ attachment: Attachment, netns: String, result: JSONAny) async throws(LibpodError) {
        for plugin in network.plugins where !Self.hasNothingToDo(plugin, for: attachment) {
            _ = try await run("CHECK", plugin, network: network, attachment: attachment, netns: netns, previous: result)
        }
    }

    /// Where the plugin of this type is, if installed.
    func pluginPath(_ type: String) -> String? {
        pluginDirectories.lazy.map { $0 + "/" + type }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func run(
        _ command: String, _ plugin: [String: JSONAny], network: CNINetwork, attachment: Attachment, netns: String, previous: JSONAny?
    ) async throws(LibpodError) -> JSONAny {
        let type = plugin["type"]?.stringValue ?? ""
        guard let path = pluginPath(type) else {
            throw .executableNotFound(
                kind: "CNI plugin \"\(type)\" of network \(network.name)", tried: pluginDirectories.map { RejectedPath(path: $0 + "/" + type, reason: "not there") },
                advice: "install containernetworking-plugins (Debian), or set cni_plugin_dir")
        }
        var configuration = plugin
        configuration["name"] = .string(network.name)
        configuration["cniVersion"] = .string(network.cniVersion)
        if let previous { configuration["prevResult"] = previous }
        var runtimeConfig: [String: JSONAny] = [:]
        let capabilities = plugin["capabilities"]?.objectValue ?? [:]
        if capabilities["portMappings"]?.boolValue == true, !attachment.portMappings.isEmpty {
            runtimeConfig["portMappings"] = .array(attachment.portMappings.map(\.cniValue))
        }
        if capabilities["ips"]?.boolValue == true, let ip = attachment.staticIP { runtimeConfig["ips"] = [.string(ip)] }
        if capabilities["mac"]?.boolValue == true, let mac = attachment.staticMAC { runtimeConfig["mac"] = .string(mac) }
        if capabilities["aliases"]?.boolValue == true { runtimeConfig["aliases"] = [network.name: [.string(attachment.containerName)]] }
        if !runtimeConfig.isEmpty { configuration["runtimeConfig"] = .object(runtimeConfig) }
        var arguments = ["IgnoreUnknown=1", "K8S_POD_NAME=\(attachment.containerName)"]
        if let ip = attachment.staticIP { arguments.append("IP=\(ip)") }
        if let mac = attachment.staticMAC { arguments.append("MAC=\(mac)") }
        let environment = [
            "CNI_COMMAND": command, "CNI_CONTAINERID": attachment.containerID, "CNI_NETNS": netns,
            "CNI_IFNAME": attachment.interface, "CNI_PATH": pluginDirectories.joined(separator: ":"),
            "CNI_ARGS": arguments.joined(separator: ";"),
            // The plugins run iptables and ip; nothing else of the daemon's environment.
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let output = try await ProcessRunner.run(path, [], environment: environment, input: try JSONAny.object(configuration).encoded())
        guard output.succeeded else {
            // A CNI error: {"code": N, "msg": "...", "details": "..."} on stdout.
            let error = JSONAny.decode(Array(output.standardOutput.utf8))
            let message = [error?["msg"]?.stringValue, error?["details"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }
                .joined(separator: ": ")
            let text = message.isEmpty ? (output.standardError.isEmpty ? output.standardOutput : output.standardError) : message
            throw .network(network: network.name, plugin: type, command: command, message: text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if command != "ADD" { return previous ?? .null }
        guard let result = JSONAny.decode(Array(output.standardOutput.utf8)), result.objectValue != nil else {
            throw .network(network: network.name, plugin: type, command: command, message: "its result is not JSON: \(output.standardOutput.prefix(200))")
        }
        return result
    }
}

/// A published port: the container's port, on the host's (podman's `-p`).
public struct PortMapping: Sendable, Codable, Equatable, Hashable {
    public var hostIP: String
    public var hostPort: UInt16
    public var containerPort: UInt16
    /// tcp, udp or sctp.
    public var `protocol`: String

    public init(hostIP: String = "", hostPort: UInt16, containerPort: UInt16, protocol: String = "tcp") {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.protocol = `protocol`
    }

    /// The portmap plugin's shape.
    var cniValue: JSONAny {
        ["hostPort": .number(Double(hostPort)), "containerPort": .number(Double(containerPort)), "protocol": .string(`protocol`), "hostIP": .string(hostIP)]
    }

    /// podman's `-p [ip:][hostPort:]containerPort[/protocol]`, with ranges
    /// (`8000-8002:80-82`); a missing host port is the container's own, an empty one
    /// (`ip::80`) any free port. Several mappings come out of a range.
    public static func parse(_ text: String) throws(LibpodError) -> [PortMapping] {
        func invalid(_ reason: String) -> LibpodError {
            .invalidArgument("invalid port \"\(text)\": \(reason); use [ip:][hostPort:]containerPort[/tcp|udp|sctp]")
        }
        var body = text
        var proto = "tcp"
        if let slash = text.lastIndex(of: "/") {
            proto = String(text[text.index(after: slash)...]).lowercased()
            body = String(text[..<slash])
            guard ["tcp", "udp", "sctp"].contains(proto) else { throw invalid("\(proto) is not tcp, udp or sctp") }
        }
        var hostIP = ""
        var parts: [String]
        if body.hasPrefix("[") {
            // [IPv6]:host:container
            guard let close = body.firstIndex(of: "]") else { throw invalid("an IPv6 address needs its closing ]") }
            hostIP = String(body[body.index(after: body.startIndex)..<close])
            parts = body[body.index(after: close)...].split(separator: ":", omittingEmptySubsequences: false).dropFirst().map(String.init)
            parts.insert(hostIP, at: 0)
        } else {
            parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
        var hostPart = ""
        let containerPart: String
        switch parts.count {
        case 1: containerPart = parts[0]
        case 2:
            hostPart = parts[0]
            containerPart = parts[1]
        case 3:
            hostIP = parts[0]
            hostPart = parts[1]
            containerPart = parts[2]
        default: throw invalid("too many ':'")
        }
        if !hostIP.isEmpty {
            var v4 = in_addr()
            var v6 = in6_addr()
            guard inet_pton(AF_INET, hostIP, &v4) == 1 || inet_pton(AF_INET6, hostIP, &v6) == 1 else {
                throw invalid("\(hostIP) is not an IP address")
            }
        }
        func range(_ text: String) throws(LibpodError) -> ClosedRange<UInt16> {
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { UInt16($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil, low > 0, low <= high else {
                throw invalid("\"\(text)\" is not a port (1-65535) or a range such as 8000-8010")
            }
            return low...high
        }
        let containerPorts = try range(containerPart)
        let hostPorts: ClosedRange<UInt16>? = hostPart.isEmpty ? (parts.count == 1 ? containerPorts : nil) : try range(hostPart)
        if let hostPorts, hostPorts.count != containerPorts.count {
            throw invalid("the host range has \(hostPorts.count) ports and the container range \(containerPorts.count)")
        }
        return containerPorts.enumerated().map { offset, port in
            PortMapping(hostIP: hostIP, hostPort: hostPorts.map { $0.lowerBound + UInt16(offset) } ?? 0, containerPort: port, protocol: proto)
        }
    }
}
