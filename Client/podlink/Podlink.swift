import ArgumentParser
import Foundation
import PodlinkInterfaces
import PodmanClient
import Varlink

/// podlink: podman's everyday commands, against a podlinkd (or any io.podman service).
@main
struct Podlink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podlink",
        abstract: "Manage containers and images through a Podlink daemon.",
        discussion: "The daemon is found from --url, else $PODLINK_ADDRESS, else the default socket (\(PodmanClient.defaultAddress)).",
        subcommands: [
            Ps.self, Run.self, Create.self, Exec.self, Attach.self, Start.self, Stop.self, Kill.self, Pause.self, Unpause.self, Restart.self,
            Rm.self, Wait.self, Logs.self, Inspect.self, Top.self, Mount.self, Umount.self, Diff.self, Images.self,
            Import.self, Load.self, Rmi.self, Tag.self, Info.self, Version.self, Events.self, ContainerCommands.self,
            ImageCommands.self, SystemCommands.self, HealthcheckCommands.self, Port.self, NetworkCommands.self, VolumeCommands.self, PodCommands.self, GenerateCommands.self, PlayCommands.self, Cp.self,
            Pull.self, Push.self, Search.self, Save.self, Export.self, Commit.self, History.self, Login.self, Logout.self,
        ])

    /// podman takes `--url` before the command (`podlink --url X ps`); the parser wants
    /// it after, where each command declares it, so it is moved there.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, first == "--url" || first.hasPrefix("--url=") {
            let count = first == "--url" ? 2 : 1
            if arguments.count > count {
                let option = Array(arguments[0..<count])
                arguments.removeFirst(count)
                // After the command, or after a group's subcommand (`volume ls`).
                let groups = configuration.subcommands.filter { !$0.configuration.subcommands.isEmpty }.compactMap { $0.configuration.commandName }
                let position = groups.contains(arguments[0]) && arguments.count > 1 ? 2 : 1
                arguments.insert(contentsOf: option, at: position)
            }
        }
        await main(arguments)
    }
}

struct GlobalOptions: ParsableArguments {
    @Option(help: "Daemon address (unix:/path, tcp:host:port). Default: $PODLINK_ADDRESS, else \(PodmanClient.defaultAddress).")
    var url: String?

    /// Runs `body` with a connection; any failure is an engine error: a message on stderr
    /// and exit status 125, as podman does.
    func withClient<T>(_ body: (PodmanClient) async throws -> T) async throws -> T {
        let client: PodmanClient
        do {
            client = try await PodmanClient.connect(to: url)
        } catch {
            let address = url ?? ProcessInfo.processInfo.environment["PODLINK_ADDRESS"] ?? PodmanClient.defaultAddress
            FileHandle.standardError.write(Data("Error: cannot connect to the Podlink daemon at \(address): \(error)\nIs podlinkd running? Start it with `make run` or `podlinkd`.\n".utf8))
            throw ExitCode(125)
        }
        defer { Task { await client.close() } }
        do {
            return try await body(client)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("Error: \(Output.describe(error))\n".utf8))
            throw ExitCode(125)
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// Tables like podman's, and JSON.
enum Output {
    static func table(_ rows: [[String]]) {
        guard let header = rows.first else { return }
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) } }
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            print(cells.joined())
        }
    }

    static func json(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
    }

    /// io.podman's typed errors carry a reason; show that rather than the type's dump.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as IoPodman.ContainerNotFound: return error.reason.isEmpty ? "no such container \(error.id)" : error.reason
        case let error as IoPodman.ImageNotFound: return error.reason.isEmpty ? "no such image \(error.id)" : error.reason
        case let error as IoPodman.InvalidState: return error.reason
        case let error as IoPodman.ErrorOccurred: return error.reason
        case let error as IoPodman.RuntimeError: return error.reason
        case let error as IoPodlink.NetworkNotFound: return error.reason
        case let error as IoPodlink.NetworkInUse:
            return "network \(error.name) is used by \(error.containers.joined(separator: ", ")); remove them first, or use --force"
        case let error as IoPodlink.NetworkError: return error.reason
        case let error as IoPodlink.RegistryError: return error.reason
        case let error as VarlinkError: return "\(error.name) \(error.parameters)"
        default: return String(describing: error)
        }
    }

    /// podman's STATUS column: `Up 3 minutes` for a running container, else what the
    /// service says (`Exited (3) 2 seconds ago`, `Created`, `Paused`).
    static func status(_ container: IoPodman.PsContainer) -> String {
        guard container.state == "running", let started = date(container.startedAt) else { return container.status }
        return "Up " + humanDuration(Date().timeIntervalSince(started))
    }

    /// go-units' HumanDuration, as podman prints durations.
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < 1 { return "Less than a second" }
        if seconds == 1 { return "1 second" }
        if seconds < 60 { return "\(seconds) seconds" }
        let minutes = seconds / 60
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int(interval / 3600 + 0.5)
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 14 { return "\(hours / 24) days" }
        if hours < 24 * 60 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 730 { return "\(hours / 24 / 30) months" }
        return "\(hours / 24 / 365) years"
    }

    static func date(_ rfc3339: String) -> Date? {
        (try? Date(rfc3339, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(rfc3339, strategy: .iso8601))
    }

    static func template(_ text: String) throws -> GoTemplate {
        do { return try GoTemplate(text) } catch { throw ValidationError("\(error)") }
    }

    /// A value's JSON (its Encodable form) as a template reads it.
    static func jsonValue(_ value: some Encodable) throws -> JSONValue {
        let data = try JSONEncoder().encode(value)
        return try JSONValue(parsing: Array(data))
    }

    /// `5 minutes ago` from an RFC 3339 time.
    static func ago(_ rfc3339: String) -> String {
        guard let date = (try? Date(rfc3339, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            ?? (try? Date(rfc3339, strategy: .iso8601))
        else { return rfc3339 }
        let seconds = Int(Date().timeIntervalSince(date))
        switch seconds {
        case ..<60: return "\(max(seconds, 0)) seconds ago"
        case ..<3600: return "\(seconds / 60) minutes ago"
        case ..<86_400: return "\(seconds / 3600) hours ago"
        default: return "\(seconds / 86_400) days ago"
        }
    }

    static func size(_ bytes: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.3g %@", value, units[unit])
    }
}

extension IoPodman.Container: Encodable {
    private enum Keys: String, CodingKey { case id, image, imageid, command, createdat, status, names, labels, containerrunning }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .id)
        try container.encode(image, forKey: .image)
        try container.encode(imageid, forKey: .imageid)
        try container.encode(command, forKey: .command)
        try container.encode(createdat, forKey: .createdat)
        try container.encode(status, forKey: .status)
        try container.encode(names, forKey: .names)
        try container.encode(labels, forKey: .labels)
        try container.encode(containerrunning, forKey: .containerrunning)
    }
}

extension IoPodman.Image: Encodable {
    private enum Keys: String, CodingKey { case id, digest, repoTags, created, size, containers, labels }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .id)
        try container.encode(digest, forKey: .digest)
        try container.encode(repoTags, forKey: .repoTags)
        try container.encode(created, forKey: .created)
        try container.encode(size, forKey: .size)
        try container.encode(containers, forKey: .containers)
        try container.encode(labels, forKey: .labels)
    }
}

extension IoPodman.PsContainer: Encodable {
    /// podman ps's JSON and template names.
    private enum Keys: String, CodingKey {
        case ID, Image, Command, Created, CreatedAt, Ports, Names, Status, State, Pid, Size, Labels, Mounts, StartedAt, ExitedAt
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .ID)
        try container.encode(image, forKey: .Image)
        try container.encode(command, forKey: .Command)
        try container.encode(created, forKey: .Created)
        try container.encode(createdAt, forKey: .CreatedAt)
        try container.encode(ports, forKey: .Ports)
        try container.encode(names, forKey: .Names)
        try container.encode(Output.status(self), forKey: .Status)
        try container.encode(state, forKey: .State)
        try container.encode(pidNum, forKey: .Pid)
        try container.encode(rwSize, forKey: .Size)
        try container.encode(labels, forKey: .Labels)
        try container.encode(mounts, forKey: .Mounts)
        try container.encode(startedAt, forKey: .StartedAt)
        try container.encode(exitedAt, forKey: .ExitedAt)
    }
}
