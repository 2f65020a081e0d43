import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// io.podlink on Libpod: what io.podman 1.9.3 never had a method for (podman 1.9's
/// `network` commands worked on CNI files in its local CLI; its remote client had no
/// `cp`), served beside io.podman.
public struct PodlinkService: IoPodlink.ServiceProtocol {
    public let runtime: Runtime

    public init(runtime: Runtime) {
        self.runtime = runtime
    }

    // MARK: - Networks

    public func listNetworks(
        _ parameters: IoPodlink.Methods.ListNetworks.Parameters, call: VarlinkCall<IoPodlink.Methods.ListNetworks.Reply>
    ) async throws -> IoPodlink.Methods.ListNetworks.Reply {
        try await mapping { .init(networks: try runtime.cniNetworks().map(Self.network)) }
    }

    public func inspectNetwork(
        _ parameters: IoPodlink.Methods.InspectNetwork.Parameters, call: VarlinkCall<IoPodlink.Methods.InspectNetwork.Reply>
    ) async throws -> IoPodlink.Methods.InspectNetwork.Reply {
        try await mapping {
            let network = try runtime.cniNetwork(parameters.name)
            // The file as it is on disk: what the plugins are given.
            return .init(config: try String(contentsOfFile: network.file, encoding: .utf8))
        }
    }

    public func createNetwork(
        _ parameters: IoPodlink.Methods.CreateNetwork.Parameters, call: VarlinkCall<IoPodlink.Methods.CreateNetwork.Reply>
    ) async throws -> IoPodlink.Methods.CreateNetwork.Reply {
        let create = parameters.create
        return try await mapping {
            let request = CNINetworkRequest(
                name: create.name, bridge: create.bridge.nonEmpty, subnet: create.subnet.nonEmpty, gateway: create.gateway.nonEmpty,
                ipRange: create.ipRange.nonEmpty, internal: create.internal ?? false, dnsname: create.disableDNS == true ? false : nil)
            return .init(network: Self.network(try runtime.createNetwork(request)))
        }
    }

    public func removeNetwork(
        _ parameters: IoPodlink.Methods.RemoveNetwork.Parameters, call: VarlinkCall<IoPodlink.Methods.RemoveNetwork.Reply>
    ) async throws -> IoPodlink.Methods.RemoveNetwork.Reply {
        try await mapping {
            .init(name: parameters.name, removedContainers: try await runtime.removeNetwork(parameters.name, force: parameters.force))
        }
    }

    // MARK: - Kubernetes

    public func playKube(
        _ parameters: IoPodlink.Methods.PlayKube.Parameters, call: VarlinkCall<IoPodlink.Methods.PlayKube.Reply>
    ) async throws -> IoPodlink.Methods.PlayKube.Reply {
        let played: [KubePlayResult]
        do throws(LibpodError) {
            played = try await runtime.playKube(parameters.yaml, start: parameters.start ?? true)
        } catch {
            throw IoPodlink.KubeError(reason: error.description)
        }
        return .init(pods: played.map { IoPodlink.PlayedPod(id: $0.podID, containers: $0.containerIDs) })
    }

    // MARK: - Copies

    public func copyIntoContainer(
        _ parameters: IoPodlink.Methods.CopyIntoContainer.Parameters, call: VarlinkCall<IoPodlink.Methods.CopyIntoContainer.Reply>
    ) async throws -> IoPodlink.Methods.CopyIntoContainer.Reply {
        try await copyMapping {
            try await runtime.copyIntoContainer(parameters.container, archive: parameters.archive, destination: parameters.destination)
            return .init()
        }
    }

    public func copyFromContainer(
        _ parameters: IoPodlink.Methods.CopyFromContainer.Parameters, call: VarlinkCall<IoPodlink.Methods.CopyFromContainer.Reply>
    ) async throws -> IoPodlink.Methods.CopyFromContainer.Reply {
        try await copyMapping { .init(archive: try await runtime.copyFromContainer(parameters.container, path: parameters.path)) }
    }

    // MARK: - Registries

    public func pull(_ parameters: IoPodlink.Methods.Pull.Parameters, call: VarlinkCall<IoPodlink.Methods.Pull.Reply>) async throws -> IoPodlink.Methods.Pull.Reply {
        let username = parameters.username.nonEmpty
        let credentials = username.map { RegistryCredentials(username: $0, password: parameters.password ?? "") }
        let options = PullOptions(
            credentials: credentials, os: parameters.os.nonEmpty, architecture: parameters.arch.nonEmpty, variant: parameters.variant.nonEmpty)
        return try await registryMapping(parameters.name) {
            try await streamingProgress(call, reply: { .init(logs: $0, id: $1) }) { log in
                try await runtime.pull(parameters.name, options: options) { event in
                    if let line = PodmanService.pullLog(event) { log(line) }
                }.id
            }
        }
    }

    public func login(_ parameters: IoPodlink.Methods.Login.Parameters, call: VarlinkCall<IoPodlink.Methods.Login.Reply>) async throws -> IoPodlink.Methods.Login.Reply {
        try await registryMapping(parameters.registry) {
            try await runtime.login(registry: parameters.registry, credentials: RegistryCredentials(username: parameters.username, password: parameters.password))
            return .init()
        }
    }

    public func logout(_ parameters: IoPodlink.Methods.Logout.Parameters, call: VarlinkCall<IoPodlink.Methods.Logout.Reply>) async throws -> IoPodlink.Methods.Logout.Reply {
        guard parameters.all || !parameters.registry.isEmpty else {
            throw IoPodlink.RegistryError(registry: "", reason: "give a registry (host[:port]), or all to forget every registry's credentials")
        }
        return try await registryMapping(parameters.registry) {
            try runtime.logout(registry: parameters.all ? nil : parameters.registry)
            return .init()
        }
    }

    func registryMapping<T>(_ registry: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as LibpodError {
            throw IoPodlink.RegistryError(registry: registry, reason: error.description)
        }
    }

    func copyMapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as LibpodError {
            if case .containerNotFound(let name) = error { throw IoPodlink.ContainerNotFound(name: name, reason: error.description) }
            throw IoPodlink.CopyFailed(reason: error.description)
        }
    }

    static func network(_ network: CNINetwork) -> IoPodlink.Network {
        IoPodlink.Network(
            name: network.name, cniVersion: network.cniVersion, plugins: network.pluginTypes, bridge: network.bridgeName,
            subnets: network.subnets, file: network.file)
    }

    /// Libpod's errors as io.podlink's.
    func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as LibpodError {
            switch error {
            case .networkNotFound(let name, _, _): throw IoPodlink.NetworkNotFound(name: name, reason: error.description)
            case .networkInUse(let name, let containers): throw IoPodlink.NetworkInUse(name: name, containers: containers)
            default: throw IoPodlink.NetworkError(reason: error.description)
            }
        }
    }
}

extension Optional where Wrapped == String {
    /// An empty string is no value (Go clients send "" for what they leave out).
    fileprivate var nonEmpty: String? { self.flatMap { $0.isEmpty ? nil : $0 } }
}
