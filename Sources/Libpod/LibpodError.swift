import Glibc

/// Every failure Libpod reports. Each case carries what the caller needs to act on it,
/// and `description` says what was asked, what was found and what to do.
public enum LibpodError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file is missing, is not TOML, or has a wrong key or value.
    case config(ConfigError)
    /// No usable OCI runtime or conmon: every path tried, and why each was refused.
    case executableNotFound(kind: String, tried: [RejectedPath], advice: String)
    /// No container matches the given ID, ID prefix or name.
    case containerNotFound(String)
    /// An ID prefix that matches more than one container.
    case ambiguousContainerID(prefix: String, matches: [String])
    /// A name that another container (or pod) already has.
    case nameInUse(String)
    /// A container name that podman's rules refuse.
    case invalidName(String)
    /// The operation is not allowed in the container's current state.
    case invalidState(id: String, state: ContainerStatus, operation: String)
    /// A parameter that is wrong, named, with what would be right.
    case invalidArgument(String)
    /// The runtime was shut down; it cannot be used any more.
    case runtimeStopped
    /// A system call on a file or directory failed, with its errno.
    case fileSystem(FileSystemFailure)
    /// The SQLite state could not be opened, read or written.
    case stateDatabase(path: String, operation: String, cause: String)
    /// The OCI runtime refused an operation on a container, with its own message.
    case ociRuntime(runtime: String, operation: String, container: String, message: String)
    /// conmon could not be started, or died before the container was created.
    case conmon(container: String, message: String)
    /// A helper program (the OCI runtime, conmon, a hook) could not be run at all.
    case helperFailed(program: String, cause: String)
    /// Something Podlink wrote earlier (an image index, a config, the state's schema) is
    /// not what it should be: what, and how to recover.
    case damaged(what: String, advice: String)
    /// A value could not be turned into JSON (a bug, not bad input).
    case encoding(what: String, cause: String)
    /// An operation did not finish in the time it had.
    case timedOut(String)
    /// The caller went away (its task was cancelled) before the operation finished.
    case cancelled(String)
    /// A CNI plugin refused to connect (or disconnect) a container: its own message.
    case network(network: String, plugin: String, command: String, message: String)
    /// A host port a container publishes is taken by another process or container.
    case portInUse(hostIP: String, port: UInt16, protocol: String)
    /// The OCI runtime could not run an exec session's command: podman's exit code for it
    /// (126 not executable, 127 not found, 125 otherwise) and the runtime's message.
    case execFailed(container: String, command: [String], exitCode: Int32, message: String)
    /// No CNI network of that name in cni_config_dir: the directory and the names there are.
    case networkNotFound(name: String, directory: String, known: [String])
    /// Containers use the network that was to be removed.
    case networkInUse(name: String, containers: [String])
    /// A feature or option that is not built yet (or not possible on this machine): what,
    /// and what would bring it.
    case unsupported(feature: String, advice: String)
    /// No image matches the given ID, ID prefix or name.
    case imageNotFound(String)
    /// An ID prefix that matches more than one image.
    case ambiguousImageID(prefix: String, matches: [String])
    /// The image is used by a container and removal was not forced.
    case imageInUse(String)
    /// A blob or layer whose content does not hash to the digest its manifest or config
    /// gives: `blob` says which (archive and path inside it).
    case digestMismatch(blob: String, expected: String, found: String)
    /// An image archive or layer that is malformed, or has an entry that would write
    /// outside its directory.
    case invalidArchive(path: String, reason: String)
    /// No volume of that name.
    case volumeNotFound(String)
    /// No pod matches the given ID, ID prefix or name.
    case podNotFound(String)
    /// Some of a pod's containers failed the operation: which, and why.
    case podContainerErrors(pod: String, operation: String, failures: [PodContainerFailure])
    /// The pod has no containers to act on.
    case noContainersInPod(String)
    /// A volume of that name exists already.
    case volumeExists(String)
    /// Containers use the volume that was to be removed.
    case volumeInUse(name: String, containers: [String])
    /// A registry refused or failed a request: which registry, what was being done, and
    /// what went wrong (with advice where the kind of failure gives one).
    case registry(RegistryFailure)
    /// signature policy (policy.json) does not allow the image.
    case policyDenied(reference: String, reason: String)

    public var description: String {
        switch self {
        case .config(let error): return error.description
        case .executableNotFound(let kind, let tried, let advice):
            let list = tried.isEmpty ? "no paths configured" : tried.map(\.description).joined(separator: ", ")
            return "no usable \(kind) found; tried \(list); \(advice)"
        case .containerNotFound(let name):
            return "no container with name or ID \"\(name)\" found; `podlink ps -a` lists the containers"
        case .ambiguousContainerID(let prefix, let matches):
            let shown = matches.prefix(5).map { String($0.prefix(12)) }.joined(separator: ", ")
            return "ID prefix \"\(prefix)\" matches \(matches.count) containers (\(shown)); give more of the ID"
        case .nameInUse(let name):
            return "the name \"\(name)\" is already in use; remove that container or choose another name"
        case .invalidName(let name):
            return "invalid name \"\(name)\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 253 characters"
        case .invalidState(let id, let state, let operation):
            return "container \(id.prefix(12)) is \(state.rawValue): cannot \(operation) it"
        case .invalidArgument(let message): return message
        case .runtimeStopped: return "the runtime has been shut down; create a new runtime"
        case .fileSystem(let failure): return failure.description
        case .stateDatabase(let path, let operation, let cause): return "\(operation) the state database \(path): \(cause)"
        case .ociRuntime(let runtime, let operation, let container, let message):
            return "\(runtime) \(operation) of container \(container.prefix(12)) failed: \(message)"
        case .conmon(let container, let message): return "conmon for container \(container.prefix(12)): \(message)"
        case .helperFailed(let program, let cause): return "running \(program): \(cause)"
        case .damaged(let what, let advice): return "\(what); \(advice)"
        case .encoding(let what, let cause): return "encoding \(what) as JSON: \(cause)"
        case .timedOut(let message): return message
        case .cancelled(let operation): return "\(operation) was cancelled: the caller went away"
        case .unsupported(let feature, let advice): return "\(feature) is not supported: \(advice)"
        case .network(let network, let plugin, let command, let message):
            return "CNI plugin \(plugin) (\(command)) of network \(network) failed: \(message)"
        case .portInUse(let hostIP, let port, let proto):
            return "port \(hostIP.isEmpty ? "0.0.0.0" : hostIP):\(port)/\(proto) is already in use on the host; choose another host port (-p OTHER:\(port)) or stop what uses it"
        case .execFailed(_, let command, _, let message):
            return "cannot run \(command.first ?? "the command") in the container: \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .networkNotFound(let name, let directory, let known):
            return "no CNI network named \"\(name)\" in \(directory)\(known.isEmpty ? "" : " (there are: \(known.joined(separator: ", ")))"); create it with `podlink network create \(name)`"
        case .networkInUse(let name, let containers):
            return "network \(name) is used by \(containers.joined(separator: ", ")); remove them first, or force the removal"
        case .podNotFound(let name):
            return "no pod with name or ID \"\(name)\" found; `podlink pod ps` lists the pods"
        case .podContainerErrors(let pod, let operation, let failures):
            let list = failures.map { "\($0.containerID.prefix(12)): \($0.reason)" }.joined(separator: "; ")
            return "\(operation) failed for \(failures.count) container(s) of pod \(pod.prefix(12)): \(list)"
        case .noContainersInPod(let pod):
            return "pod \(pod.prefix(12)) has no containers; create one with --pod"
        case .volumeNotFound(let name):
            return "no volume named \"\(name)\"; `podlink volume ls` lists the volumes"
        case .volumeExists(let name):
            return "a volume named \"\(name)\" exists already; choose another name, or use it as it is"
        case .volumeInUse(let name, let containers):
            return "volume \(name) is used by container(s) \(containers.map { String($0.prefix(12)) }.joined(separator: ", ")); remove them first, or force the removal (which removes them)"
        case .imageNotFound(let reference):
            return "no image with name or ID \"\(reference)\" found; `podlink images` lists the images"
        case .ambiguousImageID(let prefix, let matches):
            let shown = matches.prefix(5).map { String($0.prefix(12)) }.joined(separator: ", ")
            return "image ID prefix \"\(prefix)\" matches \(matches.count) images (\(shown)); give more of the ID"
        case .imageInUse(let reference):
            return "image \(reference) is used by a container; remove the container first, or force the removal"
        case .digestMismatch(let blob, let expected, let found):
            return "\(blob) has digest \(found), but \(expected) was expected; the archive is damaged or was altered: save or export it again"
        case .invalidArchive(let path, let reason):
            return "cannot use the archive \(path): \(reason)"
        case .registry(let failure): return failure.description
        case .policyDenied(let reference, let reason):
            return "\(reference) may not be pulled: \(reason)"
        }
    }
}

/// A failed system call on a path: what was being done, where, and the errno.
public struct FileSystemFailure: Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    /// What the user can do about it, when the caller knows better than the errno.
    public var advice: String?

    public var description: String {
        var text = "\(operation) \(path): \(String(cString: strerror(errno)))"
        if let advice {
            text += "; " + advice
        } else if errno == ENOSPC || errno == EDQUOT {
            text += "; free space on that file system (`podlink rmi`, `podlink container prune`) or move storage_root"
        } else if errno == EROFS {
            text += "; that file system is read-only"
        }
        return text
    }
}

/// A path that discovery looked at and refused, with the reason.
public struct RejectedPath: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path) (\(reason))" }
}

/// A problem in a configuration file: the file, the line when known, the key when known.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var key: String?
    public var message: String

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        if let key { return "\(location): key '\(key)': \(message)" }
        return "\(location): \(message)"
    }
}

/// One container of a pod that an operation on the pod failed for.
public struct PodContainerFailure: Sendable, Equatable {
    public var containerID: String
    public var reason: String

    public init(containerID: String, reason: String) {
        self.containerID = containerID
        self.reason = reason
    }
}
