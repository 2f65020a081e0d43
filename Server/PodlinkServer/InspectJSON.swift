import Foundation
import Libpod

/// `podman inspect` output for a container, in podman's field names, so that tools that
/// read podman's inspect JSON read ours.
struct ContainerInspectJSON: Encodable {
    struct StateFields: Encodable {
        var OciVersion = "1.0.2"
        var Status: String
        var Running: Bool
        var Paused: Bool
        var Restarting = false
        var OOMKilled: Bool
        var Dead = false
        var Pid: Int32
        var ConmonPid: Int32
        var ExitCode: Int32
        var Error = ""
        var StartedAt: String
        var FinishedAt: String
    }

    struct ConfigFields: Encodable {
        var Hostname: String
        var User: String
        var Env: [String]
        var Cmd: [String]
        var Image: String
        var WorkingDir: String
        var Labels: [String: String]
        var StopSignal: Int32
        var StopTimeout: UInt32
        var Tty: Bool
        var OpenStdin = false
    }

    struct HostConfigFields: Encodable {
        var Binds: [String]
        var NetworkMode: String
        var Memory: Int64
        var PidsLimit: Int64
        var CpuShares: UInt64
        var ReadonlyRootfs: Bool
        var AutoRemove: Bool
    }

    struct MountFields: Encodable {
        var `Type` = "bind"
        var Source: String
        var Destination: String
        var RW: Bool
        var Options: [String]
    }

    var Id: String
    var Created: String
    var Path: String
    var Args: [String]
    var State: StateFields
    var Image: String
    var ImageName: String
    var Rootfs = ""
    var Namespace: String
    var Name: String
    var RestartCount: Int
    var Driver: String
    var OCIRuntime: String
    var OCIConfigPath: String
    var LogPath: String
    var ConmonPidFile: String
    var StaticDir: String
    var Mounts: [MountFields]
    var Config: ConfigFields
    var HostConfig: HostConfigFields

    init(_ inspection: ContainerInspection, driver: String) {
        let container = inspection.container
        let config = container.config
        let state = container.state
        Id = container.id
        Created = PodmanFormat.time(config.created)
        Path = config.command.first ?? ""
        Args = Array(config.command.dropFirst())
        self.State = StateFields(
            Status: state.status.rawValue, Running: state.status == .running, Paused: state.status == .paused,
            OOMKilled: state.oomKilled, Pid: state.pid, ConmonPid: state.conmonPID, ExitCode: state.exitCode,
            StartedAt: state.startedAt.map(PodmanFormat.time) ?? "0001-01-01T00:00:00Z",
            FinishedAt: state.finishedAt.map(PodmanFormat.time) ?? "0001-01-01T00:00:00Z")
        Image = config.imageID
        ImageName = config.imageName
        Namespace = config.namespace
        Name = config.name
        RestartCount = state.restartCount
        Driver = driver
        OCIRuntime = inspection.ociRuntimeName
        OCIConfigPath = inspection.bundlePath + "/config.json"
        LogPath = inspection.logPath
        ConmonPidFile = inspection.conmonPidFile
        StaticDir = inspection.bundlePath
        Mounts = config.mounts.map { MountFields(Source: $0.source, Destination: $0.destination, RW: !$0.readOnly, Options: ["rbind"]) }
        self.Config = ConfigFields(
            Hostname: config.hostname.isEmpty ? String(container.id.prefix(12)) : config.hostname, User: config.user,
            Env: config.env, Cmd: config.command, Image: config.imageName, WorkingDir: config.workingDir,
            Labels: config.labels, StopSignal: config.stopSignal, StopTimeout: config.stopTimeout, Tty: config.tty)
        HostConfig = HostConfigFields(
            Binds: config.mounts.map { "\($0.source):\($0.destination):\($0.readOnly ? "ro" : "rw")" },
            NetworkMode: config.network.rawValue, Memory: config.resources.memory ?? 0, PidsLimit: config.resources.pids ?? 0,
            CpuShares: config.resources.cpuShares ?? 0, ReadonlyRootfs: config.readOnlyRootfs, AutoRemove: config.autoRemove)
    }
}

/// `podman image inspect` for an image.
struct ImageInspectJSON: Encodable {
    struct ConfigFields: Encodable {
        var Env: [String]
        var Cmd: [String]
        var Entrypoint: [String]
        var WorkingDir: String
        var User: String
        var Labels: [String: String]
        var StopSignal: String
    }

    struct RootFSFields: Encodable {
        var `Type` = "layers"
        var Layers: [String]
    }

    var Id: String
    var Digest: String
    var RepoTags: [String]
    var Created: String
    var Size: Int64
    var Config: ConfigFields
    var RootFS: RootFSFields

    init(_ image: Libpod.Image) {
        Id = image.id
        Digest = image.digest
        RepoTags = image.names
        Created = PodmanFormat.time(image.created)
        Size = image.size
        Config = ConfigFields(
            Env: image.config.env, Cmd: image.config.cmd, Entrypoint: image.config.entrypoint,
            WorkingDir: image.config.workingDir, User: image.config.user, Labels: image.config.labels,
            StopSignal: image.config.stopSignal ?? "")
        RootFS = RootFSFields(Layers: image.layers)
    }
}

extension Encodable {
    /// podman's inspect layout: indented, keys sorted, slashes as they are.
    func inspectJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
