import Foundation
import Libpod
import PodlinkInterfaces

/// io.podman's `Create` (podman's CLI flags as strings) onto Libpod's create options.
/// A field that is set to something Podlink does not support is refused by name;
/// a field left at its default (absent, false, empty, zero) is fine.
enum CreateMapping {
    /// The Create fields this mapping honours, or that only mean something to a CLI.
    static let supported: Set<String> = [
        "args", "command", "entrypoint", "env", "hostname", "label", "memory", "name", "network", "pidsLimit",
        "readonly", "rm", "stopSignal", "stopTimeout", "tty", "user", "volume", "workDir", "cpuShares",
        "detach", "quiet", "interactive", "attach", "pull",
    ]

    static func options(from create: IoPodman.Create) throws(CreateError) -> ContainerCreateOptions {
        for child in Mirror(reflecting: create).children {
            guard let label = child.label, !supported.contains(label) else { continue }
            if isSet(child.value) {
                throw CreateError(field: label, message: "is not supported by Podlink; leave it unset")
            }
        }
        guard let image = create.args.first, !image.isEmpty else {
            throw CreateError(field: "args", message: "must hold the image as args[0], then the command")
        }
        var options = ContainerCreateOptions(image: image)
        let commandArguments = Array(create.args.dropFirst())
        if let command = create.command, !command.isEmpty {
            options.command = command
        } else if !commandArguments.isEmpty {
            options.command = commandArguments
        }
        if let entrypoint = create.entrypoint, !entrypoint.isEmpty {
            // podman accepts a JSON array or a single command string.
            if let data = entrypoint.data(using: .utf8), let array = try? JSONDecoder().decode([String].self, from: data) {
                options.entrypoint = array
            } else {
                options.entrypoint = [entrypoint]
            }
        }
        options.env = create.env ?? []
        if let hostname = create.hostname { options.hostname = hostname }
        for entry in create.label ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            options.labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        if let memory = create.memory, !memory.isEmpty {
            guard let bytes = PodmanFormat.bytes(memory) else {
                throw CreateError(field: "memory", message: "\"\(memory)\" is not a size such as 512m or 1g")
            }
            options.memoryLimit = bytes
        }
        if let name = create.name { options.name = name }
        if let network = create.network, !network.isEmpty {
            guard let mode = NetworkMode(rawValue: network) else {
                throw CreateError(field: "network", message: "\"\(network)\" is not supported; use \"none\" or \"host\"")
            }
            options.network = mode
        }
        if let pids = create.pidsLimit, pids != 0 { options.pidsLimit = Int64(pids) }
        if let shares = create.cpuShares, shares != 0 {
            guard shares > 0 else { throw CreateError(field: "cpuShares", message: "must be positive") }
            options.cpuShares = UInt64(shares)
        }
        options.readOnlyRootfs = create.readonly ?? false
        options.autoRemove = create.rm ?? false
        if let signal = create.stopSignal, !signal.isEmpty {
            guard let number = try? Signals.number(signal) else {
                throw CreateError(field: "stopSignal", message: "\"\(signal)\" is not a signal name or number")
            }
            options.stopSignal = number
        }
        if let timeout = create.stopTimeout {
            guard timeout >= 0, timeout <= Int(UInt32.max) else { throw CreateError(field: "stopTimeout", message: "must be 0 or more seconds") }
            options.stopTimeout = UInt32(timeout)
        }
        options.tty = create.tty ?? false
        if let user = create.user, !user.isEmpty { options.user = user }
        if let workDir = create.workDir, !workDir.isEmpty { options.workingDir = workDir }
        for volume in create.volume ?? [] {
            let parts = volume.split(separator: ":").map(String.init)
            guard parts.count == 2 || parts.count == 3 else {
                throw CreateError(field: "volume", message: "\"\(volume)\" must be /host/path:/container/path[:ro|rw]")
            }
            guard parts.count == 2 || ["ro", "rw"].contains(parts[2]) else {
                throw CreateError(field: "volume", message: "option \"\(parts[2])\" in \"\(volume)\" is not supported; use ro or rw")
            }
            options.mounts.append(BindMount(source: parts[0], destination: parts[1], readOnly: parts.count == 3 && parts[2] == "ro"))
        }
        return options
    }

    private static func isSet(_ value: Any) -> Bool {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let inner = mirror.children.first?.value else { return false }
            return isSet(inner)
        }
        switch value {
        case let flag as Bool: return flag
        case let number as Int: return number != 0
        case let number as Double: return number != 0
        case let text as String: return !text.isEmpty
        case let list as [String]: return !list.isEmpty
        default: return true
        }
    }
}

/// A Create field that cannot be honoured.
struct CreateError: Error, CustomStringConvertible {
    var field: String
    var message: String
    var description: String { "create.\(field) \(message)" }
}
