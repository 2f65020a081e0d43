import ArgumentParser
import Foundation
import PodmanClient

struct VolumeCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage named volumes.",
        subcommands: [VolumeCreate.self, VolumeList.self, VolumeInspect.self, VolumeRemove.self, VolumePrune.self])
}

/// `KEY=VALUE` options as a dictionary; a bare KEY has an empty value.
func keyValues(_ entries: [String], option: String) throws -> [String: String] {
    var result: [String: String] = [:]
    for entry in entries {
        let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty else { throw ValidationError("--\(option) \(entry): expected KEY=VALUE") }
        result[parts[0]] = parts.count > 1 ? parts[1] : ""
    }
    return result
}

struct VolumeCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a named volume; prints its name.",
        discussion: "--opt type=tmpfs --opt device=tmpfs --opt o=size=64m makes a tmpfs volume; --opt type=none --opt o=bind --opt device=/srv/data binds a host directory.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The driver: only local.") var driver = "local"
    @Option(name: .shortAndLong, help: "KEY=VALUE label (repeatable).") var label: [String] = []
    @Option(name: .shortAndLong, help: "The local driver's type, o or device, as KEY=VALUE (repeatable).") var opt: [String] = []
    @Argument(help: "The volume's name (default: a new ID).") var name: String?

    func run() async throws {
        let labels = try keyValues(label, option: "label")
        let options = try keyValues(opt, option: "opt")
        let created = try await global.withClient { client in
            try await client.api.volumeCreate(options: .init(volumeName: name ?? "", driver: driver, labels: labels, options: options)).volumeName
        }
        print(created)
    }
}

struct VolumeList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the volumes.", aliases: ["list"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Names only.") var quiet = false
    @Option(help: "table or json.") var format: OutputFormat = .table

    func run() async throws {
        let volumes = try await global.withClient { try await $0.volumes() }
        if quiet {
            for volume in volumes { print(volume.name) }
        } else if format == .json {
            Output.json(volumes.map { ["name": $0.name, "driver": $0.driver, "mountPoint": $0.mountPoint] })
        } else {
            Output.table([["DRIVER", "VOLUME NAME"]] + volumes.map { [$0.driver, $0.name] })
        }
    }
}

struct VolumeInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show volumes' details, as a JSON list.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Volume names.") var names: [String]

    func run() async throws {
        let documents = try await global.withClient { client in
            var documents: [String] = []
            for name in names { documents.append(try await client.inspectVolume(name)) }
            return documents
        }
        print("[\n" + documents.joined(separator: ",\n") + "\n]")
    }
}

struct VolumeRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove volumes.", aliases: ["remove"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Remove the containers that use them first.") var force = false
    @Flag(name: .shortAndLong, help: "Every volume.") var all = false
    @Argument(help: "Volume names.") var names: [String] = []

    func validate() throws {
        guard all != !names.isEmpty else { throw ValidationError("give volume names, or --all") }
    }

    func run() async throws {
        let reply = try await global.withClient { try await $0.api.volumeRemove(options: .init(volumes: names, all: all, force: force)) }
        for name in reply.successes { print(name) }
        for (name, failure) in reply.failures.sorted(by: { $0.key < $1.key }) {
            FileHandle.standardError.write(Data("Error: \(name): \(failure)\n".utf8))
        }
        if !reply.failures.isEmpty { throw ExitCode(125) }
    }
}

struct VolumePrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove every volume no container uses.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Do not ask.") var force = false

    func run() async throws {
        guard force || Confirmation.ask("This removes every volume no container uses.") else { return }
        for name in try await global.withClient({ try await $0.pruneVolumes() }) { print(name) }
    }
}
