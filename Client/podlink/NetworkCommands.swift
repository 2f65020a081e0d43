import ArgumentParser
import Foundation
import PodlinkInterfaces
import PodmanClient

struct Port: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "port",
        abstract: "List a container's published ports, or the host address of one of them.",
        discussion: "podlink port web 80/tcp prints the host address container port 80/tcp is published on.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The container (name or ID).") var container: String
    @Argument(help: "A container port, PORT[/PROTOCOL].") var port: String?

    func run() async throws {
        let mappings = try await global.withClient { try await $0.ports(container) }
        let wanted = port.map { $0.contains("/") ? $0 : $0 + "/tcp" }
        var found = false
        for mapping in mappings {
            let containerSide = "\(mapping.containerPort)/\(mapping.protocol)"
            let hostSide = "\(mapping.hostIp.isEmpty ? "0.0.0.0" : mapping.hostIp):\(mapping.hostPort)"
            if let wanted {
                guard wanted == containerSide else { continue }
                print(hostSide)
            } else {
                print("\(containerSide) -> \(hostSide)")
            }
            found = true
        }
        if let port, !found {
            FileHandle.standardError.write(Data("Error: container \(container) does not publish port \(port)\n".utf8))
            throw ExitCode(125)
        }
    }
}

struct NetworkCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage the daemon's CNI networks.",
        subcommands: [NetworkList.self, NetworkInspect.self, NetworkCreate.self, NetworkRemove.self])
}

struct NetworkList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the networks.", aliases: ["list"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Names only.") var quiet = false
    @Option(help: "table or json.") var format: OutputFormat = .table

    func run() async throws {
        let networks = try await global.withClient { try await $0.networks() }
        if quiet {
            for network in networks { print(network.name) }
        } else if format == .json {
            Output.json(networks.map { ["name": $0.name, "cniVersion": $0.cniVersion, "plugins": $0.plugins.joined(separator: ","), "file": $0.file] })
        } else {
            Output.table([["NAME", "VERSION", "PLUGINS"]] + networks.map { [$0.name, $0.cniVersion, $0.plugins.joined(separator: ",")] })
        }
    }
}

struct NetworkInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show networks' configuration files, as a JSON list.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Network names.") var names: [String]

    func run() async throws {
        let documents = try await global.withClient { client in
            var documents: [String] = []
            for name in names { documents.append(try await client.inspectNetwork(name)) }
            return documents
        }
        let trimmed = documents.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        print("[\n" + trimmed.joined(separator: ",\n") + "\n]")
    }
}

struct NetworkCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a bridge network; prints the path of its configuration file.",
        discussion: "Without --subnet the first free 10.89.N.0/24 is taken; name resolution between its containers (dnsname) is on when the plugin is installed.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The driver: only bridge.") var driver = "bridge"
    @Option(help: "The subnet, in CIDR notation.") var subnet: String?
    @Option(help: "The gateway address (default: the subnet's first).") var gateway: String?
    @Option(help: "The part of the subnet container addresses come from, in CIDR notation.") var ipRange: String?
    @Option(help: "The bridge device (default: the next free cni-podmanN).") var bridge: String?
    @Flag(help: "No route out and no masquerading.") var `internal` = false
    @Flag(help: "No name resolution between the network's containers.") var disableDNS = false
    @Argument(help: "The network's name.") var name: String

    func validate() throws {
        guard driver == "bridge" else { throw ValidationError("driver \"\(driver)\" is not supported; Podlink creates bridge networks") }
    }

    func run() async throws {
        let network = try await global.withClient { client in
            try await client.createNetwork(
                IoPodlink.NetworkCreate(
                    name: name, bridge: bridge, subnet: subnet, gateway: gateway, ipRange: ipRange, internal: self.internal ? true : nil,
                    disableDNS: disableDNS ? true : nil))
        }
        print(network.file)
    }
}

struct NetworkRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove networks.", aliases: ["remove"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Remove the containers on the network first.") var force = false
    @Argument(help: "Network names.") var names: [String]

    func run() async throws {
        try await global.withClient { client in
            for name in names {
                try await client.removeNetwork(name, force: force)
                print(name)
            }
        }
    }
}
