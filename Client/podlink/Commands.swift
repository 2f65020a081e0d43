import ArgumentParser
import Foundation
import PodlinkInterfaces
import PodmanClient
import Varlink

struct Ps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Show all containers, not only running ones.") var all = false
    @Flag(name: .shortAndLong, help: "Show only IDs.") var quiet = false
    @Option(name: .shortAndLong, help: "KEY=VALUE: status, name, id, label, ancestor, exited, before, since, volume, health, until (repeatable).")
    var filter: [String] = []
    @Option(name: [.customShort("n"), .long], help: "Show the last N created containers (all states).") var last: Int?
    @Flag(name: .shortAndLong, help: "Show the newest container only.") var latest = false
    @Flag(name: .shortAndLong, help: "Show the containers' sizes.") var size = false
    @Option(help: "Sort by command, created, id, image, names, runningfor, size or status.") var sort = "created"
    @Flag(help: "Do not truncate IDs and commands.") var noTrunc = false
    @Option(help: "table, json, or a Go template such as '{{.Names}} {{.Status}}'.") var format = "table"

    func run() async throws {
        var options = PodmanClient.ListOptions()
        options.all = all
        options.filters = filter
        options.last = last
        options.latest = latest
        options.sizes = size
        options.sort = sort
        options.noTruncation = noTrunc
        let containers = try await global.withClient { try await $0.list(options) }
        if quiet { return containers.forEach { print($0.id) } }
        switch format {
        case "json": return Output.json(containers)
        case "table":
            var header = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
            if size { header.append("SIZE") }
            var rows = [header]
            for container in containers {
                var row = [container.id, container.image, container.command, container.created, Output.status(container), container.ports, container.names]
                if size { row.append("\(Output.size(container.rwSize)) (virtual \(Output.size(container.rootFsSize)))") }
                rows.append(row)
            }
            Output.table(rows)
        default:
            let template = try Output.template(format)
            for container in containers { print(try template.render(Output.jsonValue(container))) }
        }
    }
}

struct ContainerCreateArguments: ParsableArguments {
    @Option(help: "Container name.") var name: String?
    @Option(name: .shortAndLong, help: "Environment variable NAME=value (repeatable).") var env: [String] = []
    @Option(name: .shortAndLong, help: "Label key=value (repeatable).") var label: [String] = []
    @Option(name: [.customShort("w"), .long], help: "Working directory.") var workdir: String?
    @Option(name: .shortAndLong, help: "User (uid[:gid] or name).") var user: String?
    @Option(name: [.customShort("h"), .long], help: "Host name.") var hostname: String?
    @Option(name: .shortAndLong, help: "Memory limit, e.g. 512m.") var memory: String?
    @Option(help: "bridge (default), none, host, container:NAME, ns:PATH, or CNI network names (a,b).") var network: String?
    @Option(name: .shortAndLong, help: "Publish a port [ip:][hostPort:]containerPort[/tcp|udp] (repeatable).") var publish: [String] = []
    @Flag(name: [.customShort("P"), .long], help: "Publish every exposed port on a free host port.") var publishAll = false
    @Option(help: "The container's IPv4 address on its network.") var ip: String?
    @Option(help: "The container's MAC address on its network.") var macAddress: String?
    @Option(help: "DNS search domain (repeatable).") var dnsSearch: [String] = []
    @Option(help: "DNS resolver option (repeatable).") var dnsOpt: [String] = []
    @Flag(help: "Leave the image's /etc/hosts alone.") var noHosts = false
    @Option(name: .shortAndLong, help: "A volume: /host:/container[:ro] (a bind mount), NAME:/container[:ro] (a named volume, created on first use) or /container (an anonymous one) (repeatable).") var volume: [String] = []
    @Flag(help: "Read-only root file system.") var readOnly = false
    @Flag(help: "Remove the container when it exits.") var rm = false
    @Flag(name: .shortAndLong, help: "Allocate a terminal.") var tty = false
    @Option(help: "Restart policy: no, on-failure[:N], always, unless-stopped.") var restart: String?
    @Option(help: "CPUs the container may use, e.g. 1.5.") var cpus: Double?
    @Option(help: "Most processes the container may have.") var pidsLimit: Int?
    @Option(help: "Capability to add, e.g. NET_ADMIN (repeatable).") var capAdd: [String] = []
    @Option(help: "Capability to drop (repeatable).") var capDrop: [String] = []
    @Flag(help: "Every capability and device of the host.") var privileged = false
    @Flag(help: "Run an init (catatonit or tini) as the container's first process.") var `init` = false
    @Option(help: "Override the image's entrypoint.") var entrypoint: String?
    @Option(help: "KEY=VALUE file of environment variables on the daemon's machine (repeatable).") var envFile: [String] = []
    @Option(help: "DNS server (repeatable).") var dns: [String] = []
    @Option(help: "host:ip line for /etc/hosts (repeatable).") var addHost: [String] = []
    @Option(help: "tmpfs mount /path[:options] (repeatable).") var tmpfs: [String] = []
    @Option(help: "Resource limit name=soft[:hard], e.g. nofile=1024 (repeatable).") var ulimit: [String] = []
    @Option(help: "Namespaced sysctl key=value (repeatable).") var sysctl: [String] = []
    @Option(help: "Host device /dev/x[:/dev/y][:rwm] (repeatable).") var device: [String] = []
    @Option(help: "Mount type=bind|tmpfs,... (repeatable).") var mount: [String] = []
    @Option(help: "Size of /dev/shm, e.g. 128m.") var shmSize: String?
    @Option(help: "Signal to stop the container with.") var stopSignal: String?
    @Option(help: "Seconds to wait after the stop signal before SIGKILL.") var stopTimeout: Int?
    @Option(help: "Healthcheck command (a shell command or a JSON array).") var healthCmd: String?
    @Option(help: "Time between healthchecks, e.g. 30s.") var healthInterval: String?
    @Option(help: "Failures in a row before unhealthy.") var healthRetries: Int?
    @Option(help: "k8s-file or none.") var logDriver: String?
    @Option(help: "ipc namespace: host, private, container:NAME, ns:PATH.") var ipc: String?
    @Option(help: "pid namespace: host, private, container:NAME, ns:PATH.") var pid: String?
    @Option(help: "OCI annotation key=value (repeatable).") var annotation: [String] = []
    @Option(help: "The pod to join (its network, IPC and UTS namespaces).") var pod: String?
    @Flag(name: .shortAndLong, help: "Keep stdin open.") var interactive = false
    @Argument(help: "The image.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    var options: PodmanClient.CreateOptions {
        var options = PodmanClient.CreateOptions()
        options.name = name
        for entry in env {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            options.env[parts[0]] = parts.count > 1 ? parts[1] : (ProcessInfo.processInfo.environment[parts[0]] ?? "")
        }
        for entry in label {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            options.labels[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        options.workingDirectory = workdir
        options.user = user
        options.hostname = hostname
        options.memory = memory
        options.network = network
        options.volumes = volume
        options.pod = pod
        options.readOnly = readOnly
        options.removeWhenDone = rm
        options.tty = tty
        let flags = self
        options.customize = { create in
            func list(_ values: [String]) -> [String]? { values.isEmpty ? nil : values }
            create.restart = flags.restart
            create.cpus = flags.cpus
            create.pidsLimit = flags.pidsLimit
            create.capAdd = list(flags.capAdd)
            create.capDrop = list(flags.capDrop)
            create.privileged = flags.privileged ? true : nil
            create.`init` = flags.`init` ? true : nil
            create.entrypoint = flags.entrypoint
            create.envFile = list(flags.envFile.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 })
            create.dns = list(flags.dns)
            create.publish = list(flags.publish)
            create.publishAll = flags.publishAll ? true : nil
            create.ip = flags.ip
            create.macAddress = flags.macAddress
            create.dnsSearch = list(flags.dnsSearch)
            create.dnsOpt = list(flags.dnsOpt)
            create.noHosts = flags.noHosts ? true : nil
            create.addHost = list(flags.addHost)
            create.tmpfs = list(flags.tmpfs)
            create.ulimit = list(flags.ulimit)
            create.sysctl = list(flags.sysctl)
            create.device = list(flags.device)
            create.mount = list(flags.mount)
            create.shmSize = flags.shmSize
            create.stopSignal = flags.stopSignal
            create.stopTimeout = flags.stopTimeout
            create.healthcheckCommand = flags.healthCmd
            create.healthcheckInterval = flags.healthInterval
            create.healthcheckRetries = flags.healthRetries
            create.logDriver = flags.logDriver
            create.ipc = flags.ipc
            create.pid = flags.pid
            create.annotation = list(flags.annotation)
            create.interactive = flags.interactive ? true : nil
        }
        return options
    }
}

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container (not started); prints its ID.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var arguments: ContainerCreateArguments

    func run() async throws {
        print(try await global.withClient { try await $0.create(image: arguments.image, command: arguments.command, options: arguments.options) })
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create and start a container attached to this terminal; exit with its exit code (or print its ID with -d).",
        discussion: "With -i this terminal's input goes to the container; with -t it gets a terminal (raw mode here). ctrl-p,ctrl-q detaches.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Detach: print the ID and return.") var detach = false
    @Option(help: "Keys that detach (default ctrl-p,ctrl-q).") var detachKeys: String?
    @OptionGroup var arguments: ContainerCreateArguments

    func run() async throws {
        let code: Int32? = try await global.withClient { client in
            let id = try await client.create(image: arguments.image, command: arguments.command, options: arguments.options)
            if detach {
                try await client.start(id)
                print(id)
                return nil
            }
            // Attached before it starts, so nothing it prints is lost; with --rm the
            // daemon removes it once it exits.
            let process = try await client.attach(id, start: true, interactive: arguments.interactive, detachKeys: detachKeys)
            return try await TerminalSession.run(process, sendInput: arguments.interactive, tty: arguments.tty)
        }
        if let code, code != 0 { throw ExitCode(code) }
    }
}

struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach this terminal to a running container; exit with its exit code. ctrl-p,ctrl-q detaches.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Keys that detach (default ctrl-p,ctrl-q).") var detachKeys: String?
    @Flag(help: "Do not send this terminal's input.") var noStdin = false
    @Argument(help: "The container (name or ID).") var container: String

    func run() async throws {
        let code = try await global.withClient { client in
            let tty = (try? await client.api.getContainer(id: container).container).map { _ in Self.hasTerminal(client, container) } ?? nil
            let process = try await client.attach(container, interactive: !noStdin, detachKeys: detachKeys)
            return try await TerminalSession.run(process, sendInput: !noStdin, tty: await tty?.value ?? false)
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Whether the container has a terminal (its spec says), looked up meanwhile.
    static func hasTerminal(_ client: PodmanClient, _ container: String) -> Task<Bool, Never> {
        Task {
            guard let spec = try? await client.api.spec(name: container).config,
                let object = try? JSONSerialization.jsonObject(with: Data(spec.utf8)) as? [String: Any]
            else { return false }
            return (object["process"] as? [String: Any])?["terminal"] as? Bool ?? false
        }
    }
}

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in a running container; exit with its exit code (126: not executable, 127: not found).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Send this terminal's input.") var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a terminal.") var tty = false
    @Option(name: .shortAndLong, help: "An environment variable, NAME=value (repeatable).") var env: [String] = []
    @Option(name: .shortAndLong, help: "The user (name, UID, user:group).") var user: String?
    @Option(name: .shortAndLong, help: "The working directory.") var workdir: String?
    @Flag(help: "Every capability.") var privileged = false
    @Option(help: "Keys that detach (default ctrl-p,ctrl-q).") var detachKeys: String?
    @Argument(help: "The container (name or ID).") var container: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command to run after the container") }
        for entry in env where !entry.contains("=") { throw ValidationError("--env \(entry): expected NAME=value") }
    }

    func run() async throws {
        let code = try await global.withClient { client in
            var options = PodmanClient.ExecOptions()
            options.interactive = interactive
            options.tty = tty
            options.privileged = privileged
            options.user = user
            options.workingDirectory = workdir
            options.env = Dictionary(env.map { entry in
                let name = String(entry.prefix { $0 != "=" })
                return (name, String(entry.dropFirst(name.count + 1)))
            }) { _, last in last }
            options.detachKeys = detachKeys
            let process = try await client.exec(container, command: command, options: options)
            return try await TerminalSession.run(process, sendInput: interactive, tty: tty)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// start, stop, kill, pause, unpause, restart, rm: one action on each named container.
protocol ContainerAction: AsyncParsableCommand {
    var global: GlobalOptions { get }
    var containers: [String] { get }
    func act(_ client: PodmanClient, _ name: String) async throws
}

extension ContainerAction {
    func run() async throws {
        try await global.withClient { client in
            for name in containers {
                try await act(client, name)
                print(name)
            }
        }
    }
}

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start containers; with -a, attached to this terminal (one container).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Attach: the container's output here, its exit code as ours.") var attach = false
    @Flag(name: .shortAndLong, help: "With -a, send this terminal's input.") var interactive = false
    @Option(help: "Keys that detach (default ctrl-p,ctrl-q).") var detachKeys: String?
    @Argument(help: "Containers (name or ID).") var containers: [String]

    func validate() throws {
        if attach && containers.count != 1 { throw ValidationError("--attach takes one container") }
    }

    func run() async throws {
        if attach {
            let code = try await global.withClient { client in
                let tty = Attach.hasTerminal(client, containers[0])
                let process = try await client.attach(containers[0], start: true, interactive: interactive, detachKeys: detachKeys)
                return try await TerminalSession.run(process, sendInput: interactive, tty: await tty.value)
            }
            if code != 0 { throw ExitCode(code) }
            return
        }
        try await global.withClient { client in
            for name in containers {
                try await client.start(name)
                print(name)
            }
        }
    }
}

struct Stop: ContainerAction {
    static let configuration = CommandConfiguration(abstract: "Stop containers: the stop signal, then SIGKILL after the timeout.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Seconds to wait before SIGKILL (default: the container's own).") var time: Int?
    @Argument(help: "Containers (name or ID).") var containers: [String]
    func act(_ client: PodmanClient, _ name: String) async throws { try await client.stop(name, timeout: time.map { .seconds($0) }) }
}

struct Kill: ContainerAction {
    static let configuration = CommandConfiguration(abstract: "Send a signal to containers.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Signal number or name (default KILL).") var signal: String = "KILL"
    @Argument(help: "Containers (name or ID).") var containers: [String]
    func act(_ client: PodmanClient, _ name: String) async throws {
        let names: [String: Int32] = ["HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "CONT": 18, "STOP": 19]
        let key = signal.uppercased().hasPrefix("SIG") ? String(signal.uppercased().dropFirst(3)) : signal.uppercased()
        guard let number = Int32(signal) ?? names[key] else { throw ValidationError("unknown signal \(signal)") }
        try await client.kill(name, signal: number)
    }
}

struct Pause: ContainerAction {
    static let configuration = CommandConfiguration(abstract: "Pause containers.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Containers (name or ID).") var containers: [String]
    func act(_ client: PodmanClient, _ name: String) async throws { try await client.pause(name) }
}

struct Unpause: ContainerAction {
    static let configuration = CommandConfiguration(abstract: "Unpause containers.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Containers (name or ID).") var containers: [String]
    func act(_ client: PodmanClient, _ name: String) async throws { try await client.unpause(name) }
}

struct Restart: ContainerAction {
    static let configuration = CommandConfiguration(abstract: "Restart containers.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Seconds to wait before SIGKILL when stopping.") var time: Int?
    @Argument(help: "Containers (name or ID).") var containers: [String]
    func act(_ client: PodmanClient, _ name: String) async throws { try await client.restart(name, timeout: time.map { .seconds($0) }) }
}

struct Rm: ContainerAction {
    static let configuration = CommandConfiguration(abstract: "Remove containers.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Kill and remove running containers too.") var force = false
    @Flag(name: .shortAndLong, help: "Remove the containers' anonymous volumes too.") var volumes = false
    @Argument(help: "Containers (name or ID).") var containers: [String]
    func act(_ client: PodmanClient, _ name: String) async throws { try await client.remove(name, force: force, removeVolumes: volumes) }
}

struct Wait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait for containers to exit; print their exit codes.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Containers (name or ID).") var containers: [String]
    func run() async throws {
        try await global.withClient { client in
            for name in containers { print(try await client.wait(name)) }
        }
    }
}

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a container's output.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Follow until the container stops.") var follow = false
    @Option(help: "Only the last N lines.") var tail: Int?
    @Flag(name: .shortAndLong, help: "Prefix each line with its time.") var timestamps = false
    @Argument(help: "Container (name or ID).") var container: String
    func run() async throws {
        try await global.withClient { client in
            for try await line in client.logs(container, follow: follow, tail: tail) {
                let text = timestamps ? "\(line.time) \(line.msg)" : line.msg
                if line.device == "stderr" {
                    FileHandle.standardError.write(Data((text + "\n").utf8))
                } else {
                    print(text)
                    if follow { fflush(nil) }
                }
            }
        }
    }
}

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Print podman's inspect JSON for containers or images.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "container or image (default: container, else image).") var type: String?
    @Option(name: .shortAndLong, help: "A Go template applied to each, such as '{{.State.Pid}}' or '{{json .Config}}'.")
    var format: String?
    @Argument(help: "Names or IDs.") var names: [String]

    func run() async throws {
        let template = try format.map(Output.template)
        let documents: [String] = try await global.withClient { client in
            var documents: [String] = []
            for name in names {
                if type != "image", let json = try? await client.inspect(name) {
                    documents.append(json)
                } else if type != "container" {
                    documents.append(try await client.api.inspectImage(name: name).image)
                } else {
                    _ = try await client.inspect(name)
                }
            }
            return documents
        }
        if let template {
            for document in documents {
                let value: JSONValue
                do { value = try JSONValue(parsing: Array(document.utf8)) } catch { throw ValidationError("the daemon's inspect data is not JSON: \(error)") }
                do {
                    print(try template.render(value))
                } catch {
                    FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                    throw ExitCode(125)
                }
            }
            return
        }
        // Indented as podman prints it.
        let values = documents.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
        let data = try JSONSerialization.data(withJSONObject: values, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

struct Images: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Show only IDs.") var quiet = false
    @Option(help: "table or json.") var format: OutputFormat = .table
    func run() async throws {
        let images = try await global.withClient { try await $0.images() }
        if quiet { return images.forEach { print($0.id.prefix(12)) } }
        if format == .json { return Output.json(images) }
        var rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]]
        for image in images {
            let names = image.repoTags.isEmpty ? ["<none>:<none>"] : image.repoTags
            for name in names {
                let colon = name.lastIndex(of: ":").map { name[$0...].contains("/") ? nil : $0 } ?? nil
                let repository = colon.map { String(name[..<$0]) } ?? name
                let tag = colon.map { String(name[name.index(after: $0)...]) } ?? "<none>"
                rows.append([repository, tag, String(image.id.prefix(12)), Output.ago(image.created), Output.size(image.size)])
            }
        }
        Output.table(rows)
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import a rootfs tarball (plain or gzip) as an image; prints its ID.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Dockerfile instruction to apply (CMD, ENV, ...), repeatable.") var change: [String] = []
    @Argument(help: "The tarball (a path on the daemon's machine).") var tarball: String
    @Argument(help: "The reference, e.g. localhost/busybox:latest.") var reference: String
    func run() async throws {
        let path = tarball.hasPrefix("/") ? tarball : FileManager.default.currentDirectoryPath + "/" + tarball
        print(try await global.withClient { try await $0.importImage(tarball: path, reference: reference, changes: change) })
    }
}

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load images from a docker-archive or oci-archive tarball.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "The archive (a path on the daemon's machine).") var input: String
    func run() async throws {
        let path = input.hasPrefix("/") ? input : FileManager.default.currentDirectoryPath + "/" + input
        for id in try await global.withClient({ try await $0.loadImage(archive: path) }) { print("Loaded image: \(id)") }
    }
}

struct Rmi: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove images.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Remove the containers using them too.") var force = false
    @Argument(help: "Images (reference or ID).") var images: [String]
    func run() async throws {
        try await global.withClient { client in
            for image in images {
                try await client.removeImage(image, force: force)
                print("Untagged and removed: \(image)")
            }
        }
    }
}

struct Tag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The image.") var image: String
    @Argument(help: "The new name.") var name: String
    func run() async throws { try await global.withClient { try await $0.tagImage(image, as: name) } }
}

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe the host and the store.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "table or json.") var format: OutputFormat = .table
    func run() async throws {
        let info = try await global.withClient { try await $0.api.getInfo().info }
        let host = info.host
        let lines = [
            "host:", "  arch: \(host.arch)", "  cpus: \(host.cpus)", "  distribution: \(host.distribution.distribution) \(host.distribution.version)",
            "  hostname: \(host.hostname)", "  kernel: \(host.kernel)", "  memTotal: \(host.memTotal)", "  memFree: \(host.memFree)",
            "  uptime: \(host.uptime)", "registries:", "  search: \(info.registries.search)", "store:",
            "  containers: \(info.store.containers)", "  images: \(info.store.images)", "  graphDriverName: \(info.store.graphDriverName)",
            "  graphRoot: \(info.store.graphRoot)", "  runRoot: \(info.store.runRoot)", "version:", "  podlink: \(info.podman.podmanVersion)",
        ]
        if format == .json {
            Output.json([
                "arch": host.arch, "cpus": String(host.cpus), "kernel": host.kernel, "hostname": host.hostname,
                "containers": String(info.store.containers), "images": String(info.store.images),
                "graphDriverName": info.store.graphDriverName, "graphRoot": info.store.graphRoot,
            ])
        } else {
            print(lines.joined(separator: "\n"))
        }
    }
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the daemon's version.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "table or json.") var format: OutputFormat = .table
    func run() async throws {
        let version = try await global.withClient { try await $0.api.getVersion() }
        if format == .json {
            Output.json(["version": version.version, "osArch": version.osArch, "apiVersion": String(version.remoteApiVersion)])
        } else {
            print("Version:      \(version.version)\nAPI Version:  \(version.remoteApiVersion)\nOS/Arch:      \(version.osArch)")
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Print events as they happen.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "key=value: type, event, container, image (repeatable).") var filter: [String] = []
    @Option(help: "Show events since this time (RFC 3339, unix seconds, or a duration like 10m).") var since: String = ""
    func run() async throws {
        try await global.withClient { client in
            for try await event in client.events(filters: filter, since: since) {
                print("\(event.time) \(event.type) \(event.status) \(event.id.prefix(12)) (name=\(event.name))")
                // A pipe or a file gets each event as it happens, not when a buffer fills.
                fflush(nil)
            }
        }
    }
}
