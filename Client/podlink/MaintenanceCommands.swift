import ArgumentParser
import Foundation
import PodlinkInterfaces
import PodmanClient

struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Show a container's processes.",
        discussion: "Columns are ps descriptors (user, pid, ppid, pcpu, etime, tty, time, args, comm, ...): podlink top NAME pid,args")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The container (name or ID).") var container: String
    @Argument(help: "Columns, as podman takes them.") var descriptors: [String] = []

    func run() async throws {
        Output.table(try await global.withClient { try await $0.top(container, descriptors: descriptors) })
    }
}

struct Mount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount containers' root file systems on the daemon's machine and print where; with no container, list the mounted ones.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Containers (name or ID).") var containers: [String] = []

    func run() async throws {
        try await global.withClient { client in
            if containers.isEmpty {
                let mounts = try await client.api.listContainerMounts().mounts
                for (id, path) in mounts.sorted(by: { $0.key < $1.key }) { print("\(id.prefix(12))  \(path)") }
                return
            }
            for container in containers { print(try await client.mount(container)) }
        }
    }
}

struct Umount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "umount", abstract: "Unmount what `mount` mounted.", aliases: ["unmount"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Take every mount of it, not just one.") var force = false
    @Argument(help: "Containers (name or ID).") var containers: [String]

    func run() async throws {
        try await global.withClient { client in
            for container in containers {
                try await client.unmount(container, force: force)
                print(container)
            }
        }
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Show what a container changed in its image's files (A added, C changed, D deleted).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "table or json.") var format: OutputFormat = .table
    @Argument(help: "A container or an image.") var name: String

    func run() async throws {
        let changes = try await global.withClient { try await $0.diff(name) }
        if format == .json {
            Output.json([
                "changed": changes.filter { $0.kind == "C" }.map(\.path), "added": changes.filter { $0.kind == "A" }.map(\.path),
                "deleted": changes.filter { $0.kind == "D" }.map(\.path),
            ])
        } else {
            for change in changes { print("\(change.kind) \(change.path)") }
        }
    }
}

struct ContainerCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container", abstract: "Manage containers.", subcommands: [ContainerPrune.self])
}

struct ContainerPrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove every container that is not running.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Do not ask.") var force = false

    func run() async throws {
        guard force || Confirmation.ask("This removes every container that is not running.") else { return }
        for id in try await global.withClient({ try await $0.pruneContainers() }) { print(id) }
    }
}

struct ImageCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Manage images.", subcommands: [ImagePrune.self])
}

struct ImagePrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove images without a name (with --all: every image no container uses).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Every image no container uses, not only unnamed ones.") var all = false
    @Flag(name: .shortAndLong, help: "Do not ask.") var force = false

    func run() async throws {
        guard force || Confirmation.ask(all ? "This removes every image no container uses." : "This removes every image without a name.") else {
            return
        }
        for id in try await global.withClient({ try await $0.pruneImages(all: all) }) { print(id) }
    }
}

struct SystemCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "system", abstract: "Manage the engine.", subcommands: [SystemReset.self])
}

struct SystemReset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset", abstract: "Remove every container and image; the daemon goes on serving.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Do not ask.") var force = false

    func run() async throws {
        guard force || Confirmation.ask("This removes every container (running ones are killed) and every image.") else { return }
        try await global.withClient { try await $0.reset() }
    }
}

struct HealthcheckCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "healthcheck", abstract: "Run containers' healthchecks.", subcommands: [HealthcheckRun.self])
}

struct HealthcheckRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a container's healthcheck now: prints healthy (exit 0) or unhealthy (exit 1).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The container (name or ID).") var container: String

    func run() async throws {
        let healthy = try await global.withClient { try await $0.healthcheck(container) }
        print(healthy ? "healthy" : "unhealthy")
        if !healthy { throw ExitCode(1) }
    }
}

/// podman's "Are you sure you want to continue? [y/N]".
enum Confirmation {
    static func ask(_ warning: String) -> Bool {
        print("WARNING! \(warning)\nAre you sure you want to continue? [y/N] ", terminator: "")
        fflush(nil)
        return ["y", "yes"].contains(readLine()?.lowercased() ?? "")
    }
}
