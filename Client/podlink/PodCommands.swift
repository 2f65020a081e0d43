import ArgumentParser
import Foundation
import PodmanClient

struct PodCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pod", abstract: "Manage pods: containers that share an infra container's namespaces.",
        subcommands: [
            PodCreate.self, PodList.self, PodInspect.self, PodStart.self, PodStop.self, PodRestart.self, PodKill.self,
            PodPause.self, PodUnpause.self, PodRemove.self, PodTop.self, PodStats.self,
        ])
}

struct PodCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a pod; prints its ID.",
        discussion: "Containers join it with `podlink run --pod NAME`; they reach each other on 127.0.0.1 and the pod's published ports.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The pod's name (default: a generated one).") var name: String?
    @Option(name: .shortAndLong, help: "Publish a port [ip:][hostPort:]containerPort[/tcp|udp] (repeatable).") var publish: [String] = []
    @Option(name: .shortAndLong, help: "KEY=VALUE label (repeatable).") var label: [String] = []
    @Option(help: "The namespaces to share, comma separated (ipc, net, uts).") var share = "ipc,net,uts"
    @Option(help: "Create an infra container (true or false).") var infra = true

    func run() async throws {
        let labels = try keyValues(label, option: "label")
        let shared = share.split(separator: ",").map(String.init)
        let id = try await global.withClient { try await $0.createPod(name, labels: labels, publish: publish, share: shared, infra: infra) }
        print(id)
    }
}

struct PodList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the pods.", aliases: ["ls", "list"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "IDs only.") var quiet = false
    @Flag(name: .long, help: "Full IDs.") var noTrunc = false
    @Option(help: "table or json.") var format: OutputFormat = .table

    func run() async throws {
        let pods = try await global.withClient { try await $0.pods() }
        func id(_ text: String) -> String { noTrunc ? text : String(text.prefix(12)) }
        if quiet {
            for pod in pods { print(id(pod.id)) }
        } else if format == .json {
            Output.json(pods.map { ["id": $0.id, "name": $0.name, "status": $0.status, "created": $0.createdat, "containers": $0.numberofcontainers] })
        } else {
            Output.table([["POD ID", "NAME", "STATUS", "CREATED", "# OF CONTAINERS"]]
                + pods.map { [id($0.id), $0.name, $0.status, $0.createdat, $0.numberofcontainers] })
        }
    }
}

struct PodInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show a pod's details as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The pod (name or ID).") var pod: String

    func run() async throws {
        print(try await global.withClient { try await $0.inspectPod(pod) })
    }
}

/// A pod command that acts on each pod named and prints its ID.
protocol PodAction: AsyncParsableCommand {
    var global: GlobalOptions { get }
    var pods: [String] { get }
    func act(_ client: PodmanClient, _ pod: String) async throws
}

extension PodAction {
    func run() async throws {
        try await global.withClient { client in
            for pod in pods {
                try await act(client, pod)
                print(pod)
            }
        }
    }
}

struct PodStart: PodAction {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start pods: the infra container, then the others.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Pods (name or ID).") var pods: [String]
    func act(_ client: PodmanClient, _ pod: String) async throws { try await client.startPod(pod) }
}

struct PodStop: PodAction {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop pods: their containers, then the infra container.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Seconds to wait before killing (default: each container's own).") var time: Int?
    @Argument(help: "Pods (name or ID).") var pods: [String]
    func act(_ client: PodmanClient, _ pod: String) async throws { try await client.stopPod(pod, timeout: time) }
}

struct PodRestart: PodAction {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart pods.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Pods (name or ID).") var pods: [String]
    func act(_ client: PodmanClient, _ pod: String) async throws { try await client.restartPod(pod) }
}

struct PodKill: PodAction {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to pods' running containers.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "The signal's number (default 9).") var signal: Int32 = 9
    @Argument(help: "Pods (name or ID).") var pods: [String]
    func act(_ client: PodmanClient, _ pod: String) async throws { try await client.killPod(pod, signal: signal) }
}

struct PodPause: PodAction {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause pods' running containers.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Pods (name or ID).") var pods: [String]
    func act(_ client: PodmanClient, _ pod: String) async throws { try await client.pausePod(pod) }
}

struct PodUnpause: PodAction {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Unpause pods' paused containers.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Pods (name or ID).") var pods: [String]
    func act(_ client: PodmanClient, _ pod: String) async throws { try await client.unpausePod(pod) }
}

struct PodRemove: PodAction {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove pods.", aliases: ["remove"])
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Stop and remove their containers too.") var force = false
    @Argument(help: "Pods (name or ID).") var pods: [String]
    func act(_ client: PodmanClient, _ pod: String) async throws { try await client.removePod(pod, force: force) }
}

struct PodTop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Show the processes of a pod's containers.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The pod (name or ID).") var pod: String
    @Argument(help: "ps descriptors (pid, user, args, ...).") var descriptors: [String] = []

    func run() async throws {
        let lines = try await global.withClient { try await $0.api.topPod(pod: pod, latest: false, descriptors: descriptors).stats }
        for line in lines { print(line) }
    }
}

struct PodStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show the resource use of a pod's running containers.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "table or json.") var format: OutputFormat = .table
    @Argument(help: "The pod (name or ID).") var pod: String

    func run() async throws {
        let stats = try await global.withClient { try await $0.api.getPodStats(name: pod).containers }.sorted { $0.name < $1.name }
        if format == .json {
            Output.json(stats.map { ["id": $0.id, "name": $0.name, "cpu": String(format: "%.2f", $0.cpu), "mem_usage": String($0.memUsage), "pids": String($0.pids)] })
            return
        }
        var rows = [["ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"]]
        for entry in stats {
            let memory = Self.mib(entry.memUsage) + " / " + Self.mib(entry.memLimit)
            rows.append([String(entry.id.prefix(12)), entry.name, String(format: "%.2f%%", entry.cpu), memory, String(format: "%.2f%%", entry.memPerc), String(entry.pids)])
        }
        Output.table(rows)
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.1fMiB", Double(bytes) / 1_048_576) }
}
