import Foundation

/// A CNI network: a name and the chain of plugins that connects a container to it, as a
/// `.conflist` (or a single-plugin `.conf`) in cni_config_dir describes it.
public struct CNINetwork: Sendable, Equatable, Codable {
    public var name: String
    public var cniVersion: String
    /// Each plugin's configuration object, as the file has it.
    public var plugins: [[String: JSONAny]]
    /// The file it came from.
    public var file: String

    /// The plugin types in chain order (`bridge`, `portmap`, ...).
    public var pluginTypes: [String] { plugins.map { $0["type"]?.stringValue ?? "" } }

    /// The bridge device the chain's bridge plugin uses, if it has one.
    public var bridgeName: String? {
        plugins.first { $0["type"]?.stringValue == "bridge" }?["bridge"]?.stringValue
    }

    /// The subnets its host-local IPAM hands addresses from.
    public var subnets: [String] {
        var result: [String] = []
        for plugin in plugins {
            guard let ipam = plugin["ipam"]?.objectValue else { continue }
            if let subnet = ipam["subnet"]?.stringValue { result.append(subnet) }
            for range in ipam["ranges"]?.arrayValue ?? [] {
                for entry in range.arrayValue ?? [] {
                    if let subnet = entry.objectValue?["subnet"]?.stringValue { result.append(subnet) }
                }
            }
        }
        return result
    }

    /// Whether a plugin of the chain takes `capability` from the runtime (portMappings, ips, mac).
    func hasCapability(_ capability: String) -> Bool {
        plugins.contains { $0["capabilities"]?.objectValue?[capability]?.boolValue == true }
    }
}

/// The networks in cni_config_dir: every `.conflist`, `.conf` and `.json` file, by name
/// (the first file, in name order, wins a name, as libcni reads them).
public struct CNIConfigDirectory: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func networks() throws(LibpodError) -> [CNINetwork] {
        var byName: [String: CNINetwork] = [:]
        var order: [String] = []
        for file in FileSystem.list(directory).sorted() where [".conflist", ".conf", ".json"].contains(where: file.hasSuffix) {
            let network = try Self.read(directory + "/" + file)
            guard byName[network.name] == nil else { continue }
            byName[network.name] = network
            order.append(network.name)
        }
        return order.map { byName[$0]! }
    }

    public func network(_ name: String) throws(LibpodError) -> CNINetwork {
        let all = try networks()
        guard let network = all.first(where: { $0.name == name }) else {
            throw .networkNotFound(name: name, directory: directory, known: all.map(\.name))
        }
        return network
    }

    static func read(_ path: String) throws(LibpodError) -> CNINetwork {
        func invalid(_ reason: String) -> LibpodError {
            .config(ConfigError(file: path, message: "not a usable CNI network configuration: \(reason)"))
        }
        guard let bytes = try FileSystem.read(path) else { throw invalid("it disappeared while being read") }
        guard case .object(let object)? = try? JSONDecoder().decode(JSONAny.self, from: Data(bytes)) else {
            throw invalid("it is not a JSON object")
        }
        guard let name = object["name"]?.stringValue, !name.isEmpty else { throw invalid("it has no \"name\"") }
        let version = object["cniVersion"]?.stringValue ?? "0.4.0"
        var plugins: [[String: JSONAny]]
        if let list = object["plugins"]?.arrayValue {
            plugins = list.compactMap(\.objectValue)
            guard plugins.count == list.count, !plugins.isEmpty else { throw invalid("\"plugins\" must be a list of objects") }
        } else {
            // A .conf is one plugin's configuration with the network's name in it.
            plugins = [object]
        }
        for plugin in plugins where plugin["type"]?.stringValue?.isEmpty ?? true {
            throw invalid("a plugin has no \"type\"")
        }
        return CNINetwork(name: name, cniVersion: version, plugins: plugins, file: path)
    }

    /// Writes podman's default network (bridge cni-podman0 on 10.88.0.0/16, host-local
    /// addresses, portmap, firewall, tuning) when no file names `name`, as podman does.
    public func ensureDefault(named name: String) throws(LibpodError) -> CNINetwork {
        if let existing = try networks().first(where: { $0.name == name }) { return existing }
        let request = CNINetworkRequest(name: name, bridge: "cni-podman0", subnet: "10.88.0.0/16", gateway: "10.88.0.1", dnsname: false)
        return try create(request, dnsnameAvailable: false, fileName: "87-\(name)-bridge.conflist")
    }

    /// podman network create: a bridge network in its own file; the name must be new, and
    /// what the request leaves out is chosen as podman 1.9 does (the next free cni-podmanN
    /// and 10.89.N.0/24, the subnet's first address as gateway, dnsname when installed).
    @discardableResult
    public func create(_ request: CNINetworkRequest, dnsnameAvailable: Bool, fileName: String? = nil) throws(LibpodError) -> CNINetwork {
        func invalid(_ reason: String) -> LibpodError { .invalidArgument("network create \(request.name): \(reason)") }
        try ContainerNaming.validate(name: request.name)
        let existing = try networks()
        guard !existing.contains(where: { $0.name == request.name }) else {
            throw .invalidArgument("a CNI network named \"\(request.name)\" exists already; remove it first or choose another name")
        }
        let takenSubnets = existing.flatMap(\.subnets).compactMap(IPSubnet.init)
        let subnet: IPSubnet
        if let text = request.subnet {
            guard let given = IPSubnet(text) else { throw invalid("\"\(text)\" is not a subnet in CIDR notation (10.89.3.0/24)") }
            if let clash = takenSubnets.first(where: given.overlaps) { throw invalid("subnet \(given) overlaps \(clash) of another network") }
            subnet = given
        } else {
            guard let free = (0...255).lazy.compactMap({ IPSubnet("10.89.\($0).0/24") }).first(where: { candidate in !takenSubnets.contains(where: candidate.overlaps) })
            else { throw invalid("no free 10.89.N.0/24 subnet is left; give one with --subnet") }
            subnet = free
        }
        let gateway = request.gateway ?? IPSubnet.format(subnet.address(at: 1))
        guard let gatewayBytes = IPSubnet.parse(gateway), subnet.contains(gatewayBytes) else {
            throw invalid("the gateway \(gateway) is not an address in \(subnet)")
        }
        var range: [String: JSONAny] = ["subnet": .string(subnet.description)]
        if !request.internal { range["gateway"] = .string(gateway) }
        if let text = request.ipRange {
            guard let ipRange = IPSubnet(text), subnet.contains(ipRange.address), ipRange.prefixLength >= subnet.prefixLength else {
                throw invalid("the IP range \(text) is not a CIDR within \(subnet)")
            }
            range["rangeStart"] = .string(IPSubnet.format(ipRange.address(at: 1)))
            range["rangeEnd"] = .string(IPSubnet.format(ipRange.lastHost))
        }
        let takenBridges = Set(existing.compactMap(\.bridgeName))
        let bridge = request.bridge ?? (1...).lazy.map { "cni-podman\($0)" }.first { !takenBridges.contains($0) }!
        if request.bridge != nil, takenBridges.contains(bridge) { throw invalid("the bridge \(bridge) belongs to another network") }
        var ipam: [String: JSONAny] = ["type": "host-local", "ranges": [.array([.object(range)])]]
        if !request.internal { ipam["routes"] = [["dst": subnet.isIPv4 ? "0.0.0.0/0" : "::/0"]] }
        var plugins: [JSONAny] = [
            .object([
                "type": "bridge", "bridge": .string(bridge), "isGateway": .bool(!request.internal), "ipMasq": .bool(!request.internal),
                "hairpinMode": true, "ipam": .object(ipam),
            ]),
            ["type": "portmap", "capabilities": ["portMappings": true]],
            ["type": "firewall"],
            ["type": "tuning"],
        ]
        if request.dnsname ?? dnsnameAvailable {
            plugins.append(["type": "dnsname", "domainName": "dns.podman", "capabilities": ["aliases": true]])
        }
        let document: JSONAny = ["cniVersion": "0.4.0", "name": .string(request.name), "plugins": .array(plugins)]
        let path = directory + "/" + (fileName ?? "\(request.name).conflist")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(document) } catch { throw .encoding(what: "the network \(request.name)", cause: "\(error)") }
        try FileSystem.ensureDirectory(directory, mode: 0o755)
        try FileSystem.writeAtomically(path, Array(data) + [10])
        return try Self.read(path)
    }

    /// podman network rm: the file of the network goes.
    public func remove(_ name: String) throws(LibpodError) {
        let network = try network(name)
        try FileSystem.removeFile(network.file)
    }
}

/// What `podman network create` takes; what is nil is chosen.
public struct CNINetworkRequest: Sendable, Equatable {
    public var name: String
    public var bridge: String?
    /// CIDR.
    public var subnet: String?
    public var gateway: String?
    /// A CIDR within the subnet that addresses are handed from.
    public var ipRange: String?
    /// No gateway, no masquerading.
    public var `internal`: Bool
    /// Name resolution between the network's containers (the dnsname plugin, with
    /// dnsmasq); nil: on when the plugin is installed.
    public var dnsname: Bool?

    public init(
        name: String, bridge: String? = nil, subnet: String? = nil, gateway: String? = nil, ipRange: String? = nil,
        internal: Bool = false, dnsname: Bool? = nil
    ) {
        self.name = name
        self.bridge = bridge
        self.subnet = subnet
        self.gateway = gateway
        self.ipRange = ipRange
        self.internal = `internal`
        self.dnsname = dnsname
    }
}

/// Any JSON value, kept as it is: CNI configurations are passed to plugins unchanged but
/// for the keys the runtime adds.
public enum JSONAny: Sendable, Equatable, Codable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONAny])
    case object([String: JSONAny])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(arrayLiteral elements: JSONAny...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONAny)...) { self = .object(Dictionary(elements) { first, _ in first }) }

    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var numberValue: Double? { if case .number(let value) = self { value } else { nil } }
    public var arrayValue: [JSONAny]? { if case .array(let value) = self { value } else { nil } }
    public var objectValue: [String: JSONAny]? { if case .object(let value) = self { value } else { nil } }

    public subscript(_ key: String) -> JSONAny? { objectValue?[key] }

    public init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? single.decode(Double.self) {
            self = .number(number)
        } else if let text = try? single.decode(String.self) {
            self = .string(text)
        } else if let array = try? single.decode([JSONAny].self) {
            self = .array(array)
        } else {
            self = .object(try single.decode([String: JSONAny].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .null: try single.encodeNil()
        case .bool(let flag): try single.encode(flag)
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { try single.encode(Int64(number)) } else { try single.encode(number) }
        case .string(let text): try single.encode(text)
        case .array(let elements): try single.encode(elements)
        case .object(let members): try single.encode(members)
        }
    }

    /// The value's JSON bytes.
    func encoded() throws(LibpodError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(self)) } catch { throw .encoding(what: "a CNI document", cause: "\(error)") }
    }

    static func decode(_ bytes: [UInt8]) -> JSONAny? {
        try? JSONDecoder().decode(JSONAny.self, from: Data(bytes))
    }
}
