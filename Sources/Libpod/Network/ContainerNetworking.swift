import Foundation
import Glibc

/// What CNI gave a container on its networks: kept (under static_dir, so that it
/// survives a reboot) until the container is disconnected, since DEL must get what ADD
/// returned and a reboot leaves address leases and firewall rules to release.
public struct ContainerNetworkStatus: Sendable, Codable, Equatable {
    public struct Connection: Sendable, Codable, Equatable {
        /// The network as it was when the container joined (its file may change since).
        var network: CNINetwork
        var attachment: CNIExecutor.Attachment
        /// The chain's ADD result so far: nil until its first plugin answered.
        var result: JSONAny?

        public var networkName: String { network.name }
        public var interface: String { attachment.interface }

        /// The container's address on this network, `10.88.0.5/16`.
        public var address: String? {
            ipEntry?["address"]?.stringValue
        }

        public var gateway: String? { ipEntry?["gateway"]?.stringValue }

        /// The container's side of the veth: the result's interface with a sandbox.
        public var macAddress: String? {
            result?["interfaces"]?.arrayValue?.first { $0["sandbox"]?.stringValue?.isEmpty == false }?["mac"]?.stringValue
        }

        public var bridge: String? { network.bridgeName }

        /// Name servers the network offers (dnsname's dnsmasq).
        var nameServers: [String] { result?["dns"]?["nameservers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        var searchDomains: [String] { result?["dns"]?["search"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

        private var ipEntry: JSONAny? { result?["ips"]?.arrayValue?.first }

        /// Whether the network's bridge plugin masquerades the container's addresses.
        var masquerades: Bool {
            network.plugins.contains { $0["type"]?.stringValue == "bridge" && $0["ipMasq"]?.boolValue == true }
        }

        var addressFamilies: Set<StaleMasqueradeRules.Family> {
            Set(result?["ips"]?.arrayValue?.compactMap { $0["address"]?.stringValue.map { $0.contains(":") ? .ipv6 : .ipv4 } } ?? [])
        }
    }

    public var namespacePath: String
    public var connections: [Connection]
    /// Rootless, instead of CNI connections.
    public var slirp: SlirpConnection?

    /// The container's address: its first network's, or slirp4netns's.
    var primaryAddress: String? {
        connections.first?.address.map { String($0.prefix { $0 != "/" }) } ?? slirp.map { _ in SlirpConnection.address }
    }

    var nameServers: [String] { connections.flatMap(\.nameServers) + (slirp.map { _ in [SlirpConnection.nameServer] } ?? []) }
}

extension Runtime {
    var cniConfigDirectory: CNIConfigDirectory { CNIConfigDirectory(directory: config.cniConfigDir) }
    var cniExecutor: CNIExecutor { CNIExecutor(pluginDirectories: config.cniPluginDir) }

    /// The network namespace the runtime makes for a container on CNI networks.
    func networkNamespacePath(_ id: String) -> String { paths.netnsDir + "/" + id }
    func networkStatusPath(_ id: String) -> String { paths.networkStatusDir + "/" + id + ".json" }

    /// The CNI networks a container joins: the ones it names, else the default one
    /// (written as podman's when cni_config_dir has none of that name).
    func networks(of config: ContainerConfig) throws(LibpodError) -> [CNINetwork] {
        guard case .bridge(let names) = config.network else { return [] }
        let defaultName = self.config.cniDefaultNetwork
        if names.isEmpty || names.contains(defaultName) { _ = try cniConfigDirectory.ensureDefault(named: defaultName) }
        if names.isEmpty { return [try cniConfigDirectory.network(defaultName)] }
        return try names.map { name throws(LibpodError) in try cniConfigDirectory.network(name) }
    }

    /// Makes the namespace of a starting container, which the OCI runtime's create joins;
    /// a teardown of the container's earlier namespace still in flight ends first.
    /// Every step is recorded before it is taken, so that a process killed at any point
    /// leaves a status that says what to undo.
    func makeNetworkNamespace(_ id: String) async throws(LibpodError) -> String {
        await networkTeardowns.wait(for: id)
        let path = networkNamespacePath(id)
        if NetworkNamespace.isMounted(path) { try NetworkNamespace.remove(at: path) }
        try saveNetworkStatus(ContainerNetworkStatus(namespacePath: path, connections: [], slirp: nil), id: id)
        try FileSystem.ensureDirectory(paths.netnsDir, mode: 0o755)
        try await NetworkNamespace.create(at: path)
        return path
    }

    /// Connects the container's namespace to each of its networks by the network's plugin
    /// chain (eth0, eth1, ...). On failure nothing is left connected (the namespace stays).
    func attachNetworks(_ config: ContainerConfig) async throws(LibpodError) -> ContainerNetworkStatus {
        let networks = try networks(of: config)
        let path = networkNamespacePath(config.id)
        var status = ContainerNetworkStatus(namespacePath: path, connections: [], slirp: nil)
        do throws(LibpodError) {
            for (index, network) in networks.enumerated() {
                let attachment = CNIExecutor.Attachment(
                    network: network.name, interface: "eth\(index)", containerID: config.id, containerName: config.name,
                    portMappings: index == 0 ? config.portMappings : [], staticIP: index == 0 ? config.staticIP : nil,
                    staticMAC: index == 0 ? config.staticMAC : nil)
                status.connections.append(.init(network: network, attachment: attachment, result: nil))
                try saveNetworkStatus(status, id: config.id)
                let last = status.connections.count - 1
                _ = try await cniExecutor.add(network, attachment, netns: path) { (result: JSONAny) throws(LibpodError) in
                    status.connections[last].result = result
                    try saveNetworkStatus(status, id: config.id)
                }
            }
        } catch {
            for connection in status.connections.reversed() {
                _ = await cniExecutor.delete(connection.network, connection.attachment, netns: path, result: connection.result)
            }
            bestEffort("forgetting the network status of \(config.id.prefix(12))") { () throws(LibpodError) in
                try FileSystem.removeFile(networkStatusPath(config.id))
            }
            throw error
        }
        return status
    }

    /// Starts slirp4netns on the container's namespace with its published ports; returns
    /// the status to keep and the exit pipe's write end, for conmon to hold.
    func attachSlirp(_ config: ContainerConfig) async throws(LibpodError) -> (ContainerNetworkStatus, Int32) {
        guard let path = ExecutableDiscovery.search("slirp4netns") else {
            throw .executableNotFound(
                kind: "slirp4netns", tried: [],
                advice: "install slirp4netns (apt-get install slirp4netns), the rootless containers' network, or run with --network none or host")
        }
        guard access("/dev/net/tun", R_OK | W_OK) == 0 else {
            throw .unsupported(
                feature: "slirp4netns without /dev/net/tun (\(String(cString: strerror(errno))))",
                advice: "slirp4netns opens /dev/net/tun as the user: give it mode 0666 as Debian's udev rules do (chmod 0666 /dev/net/tun), or run with --network none or host")
        }
        // slirp4netns binds this path itself, so it must fit a socket address (108 bytes):
        // half the ID is unique enough.
        let apiSocket = config.portMappings.isEmpty ? nil : paths.slirpDir + "/" + String(config.id.prefix(32)) + ".sock"
        if apiSocket != nil { try FileSystem.ensureDirectory(paths.slirpDir, mode: 0o700) }
        try FileSystem.ensureDirectory(runDirectory(config.id), mode: 0o700)
        let slirp = SlirpConnection(apiSocket: apiSocket, ports: config.portMappings)
        let status = ContainerNetworkStatus(namespacePath: networkNamespacePath(config.id), connections: [], slirp: slirp)
        try saveNetworkStatus(status, id: config.id)
        let running = try await Slirp4netns(path: path).start(
            netns: status.namespacePath, apiSocket: apiSocket, ports: config.portMappings, containerID: config.id,
            logPath: runDirectory(config.id) + "/slirp4netns.log")
        return (status, running.exitDescriptor)
    }

    /// Disconnects a stopped container in the background (see `NetworkTeardowns`).
    func beginDisconnecting(_ id: String) {
        networkTeardowns.begin(id) { await self.disconnectNetworks(id) }
    }

    /// Before a container takes host ports or a static address: what a torn-down
    /// container held is released first.
    func waitForTeardowns(before config: ContainerConfig) async {
        if !config.portMappings.isEmpty || config.staticIP != nil || config.staticMAC != nil {
            await networkTeardowns.waitForAll()
        }
    }

    /// Disconnects a container from its networks (each chain's DEL, in reverse) and
    /// removes its namespace. A namespace that is gone (after a reboot) is told to the
    /// plugins as none, and they release what they can: addresses, firewall rules.
    /// Failures are reported, not thrown: what can be released is.
    func disconnectNetworks(_ id: String, status given: ContainerNetworkStatus? = nil) async {
        guard let status = given ?? networkStatus(id) else {
            bestEffort("removing the network namespace of \(id.prefix(12))") { () throws(LibpodError) in
                if FileSystem.exists(networkNamespacePath(id)) { try NetworkNamespace.remove(at: networkNamespacePath(id)) }
            }
            return
        }
        let netns = NetworkNamespace.isMounted(status.namespacePath) ? status.namespacePath : ""
        for connection in status.connections.reversed() {
            var failures = await cniExecutor.delete(connection.network, connection.attachment, netns: netns, result: connection.result)
            if netns.isEmpty, connection.masquerades {
                failures += await StaleMasqueradeRules.release(containerID: id, families: connection.addressFamilies)
            }
            for failure in failures {
                logger.warning("disconnecting a container from its network", metadata: ["id": "\(id)", "error": "\(failure)"])
            }
        }
        bestEffort("removing the network namespace of \(id.prefix(12))") { () throws(LibpodError) in
            // slirp4netns ended with conmon (its exit pipe); its socket file stays behind.
            if let socket = status.slirp?.apiSocket { try FileSystem.removeFile(socket) }
            if FileSystem.exists(status.namespacePath) { try NetworkNamespace.remove(at: status.namespacePath) }
            try FileSystem.removeFile(networkStatusPath(id))
        }
    }

    /// What CNI gave the container, while it is connected.
    public func networkStatus(_ id: String) -> ContainerNetworkStatus? {
        guard let bytes = (try? FileSystem.read(networkStatusPath(id))) ?? nil else { return nil }
        return try? JSONDecoder().decode(ContainerNetworkStatus.self, from: Data(bytes))
    }

    private func saveNetworkStatus(_ status: ContainerNetworkStatus, id: String) throws(LibpodError) {
        try FileSystem.ensureDirectory(paths.networkStatusDir, mode: 0o700)
        let data: Data
        do { data = try JSONEncoder().encode(status) } catch { throw .encoding(what: "the network status of \(id.prefix(12))", cause: "\(error)") }
        try FileSystem.writeAtomically(networkStatusPath(id), Array(data))
    }

    /// A daemon killed in the middle of a teardown leaves a container recorded as
    /// connected that no longer runs (or no longer exists): disconnected at start.
    func releaseNetworksLeftBehind() async {
        for file in FileSystem.list(paths.networkStatusDir) where file.hasSuffix(".json") {
            let id = String(file.dropLast(5))
            guard (try? await state.container(id: id)) != nil else {
                await disconnectNetworks(id)
                continue
            }
            await bestEffort("releasing the network of \(id.prefix(12)), left behind") { () async throws(LibpodError) in
                try await locks.withContainerLock(id) { () async throws(LibpodError) in
                    let status = try await state.container(id: id).state.status
                    if status == .configured || status == .exited { await disconnectNetworks(id) }
                }
            }
        }
    }

    /// After a reboot every namespace is gone, but address leases and firewall rules
    /// outlive it: every container still recorded as connected is disconnected.
    func releaseNetworksAfterRefresh() async {
        for file in FileSystem.list(paths.networkStatusDir) where file.hasSuffix(".json") {
            await disconnectNetworks(String(file.dropLast(5)))
        }
    }

    // MARK: - Networks

    /// podman network ls: the default network is always there (written when missing, as
    /// podman's package installs it).
    public func cniNetworks() throws(LibpodError) -> [CNINetwork] {
        _ = try cniConfigDirectory.ensureDefault(named: config.cniDefaultNetwork)
        return try cniConfigDirectory.networks()
    }

    /// podman network inspect.
    public func cniNetwork(_ name: String) throws(LibpodError) -> CNINetwork { try cniConfigDirectory.network(name) }

    /// podman network create.
    @discardableResult
    public func createNetwork(_ request: CNINetworkRequest) throws(LibpodError) -> CNINetwork {
        try checkValid()
        let dnsname = cniExecutor.pluginPath("dnsname") != nil && ExecutableDiscovery.search("dnsmasq") != nil
        // The default network's subnet is taken first, so that no new network overlaps it.
        _ = try cniConfigDirectory.ensureDefault(named: config.cniDefaultNetwork)
        return try cniConfigDirectory.create(request, dnsnameAvailable: dnsname)
    }

    /// podman network rm: refused while a container uses the network, unless `force`,
    /// which removes those containers first (their names are returned).
    @discardableResult
    public func removeNetwork(_ name: String, force: Bool = false) async throws(LibpodError) -> [String] {
        try checkValid()
        _ = try cniConfigDirectory.network(name)
        let users = try await containers().filter { container in
            if case .bridge(let names) = container.config.network {
                return names.contains(name) || (names.isEmpty && name == config.cniDefaultNetwork)
            }
            return false
        }
        if !users.isEmpty {
            guard force else { throw .networkInUse(name: name, containers: users.map(\.name)) }
            for container in users { try await removeContainer(container.id, force: true) }
        }
        // Their leases and rules are released before the network's file goes.
        await networkTeardowns.waitForAll()
        try cniConfigDirectory.remove(name)
        return users.map(\.name)
    }
}
