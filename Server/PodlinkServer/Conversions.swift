import Foundation
import Libpod
import PodlinkInterfaces

/// Libpod's records in io.podman's types.
enum Conversions {
    static func container(_ container: Container, now: Date = Date()) -> IoPodman.Container {
        let state = container.state
        let running = state.status == .running
        let namespace = { (kind: String) in running && state.pid > 0 ? "/proc/\(state.pid)/ns/\(kind)" : "" }
        return IoPodman.Container(
            id: container.id, image: container.config.imageName, imageid: container.config.imageID,
            command: container.config.command, createdat: PodmanFormat.time(container.config.created),
            runningfor: PodmanFormat.duration(now.timeIntervalSince(container.config.created)),
            status: state.status.rawValue, ports: [], rootfssize: 0, rwsize: 0, names: container.name,
            labels: container.config.labels,
            mounts: container.config.mounts.map {
                IoPodman.ContainerMount(destination: $0.destination, type: "bind", source: $0.source, options: $0.readOnly ? ["ro"] : ["rw"])
            },
            containerrunning: running,
            namespaces: IoPodman.ContainerNameSpace(
                user: "", uts: namespace("uts"), pidns: namespace("pid"), pid: state.pid > 0 ? String(state.pid) : "",
                cgroup: namespace("cgroup"), net: container.config.network == .host ? "host" : namespace("net"),
                mnt: namespace("mnt"), ipc: namespace("ipc")))
    }

    static func image(_ image: Image, containers: Int) -> IoPodman.Image {
        IoPodman.Image(
            id: image.id, digest: image.digest, digests: [image.digest], parentId: "", repoTags: image.names,
            repoDigests: image.names.map { ($0.split(separator: ":").dropLast().joined(separator: ":")) + "@" + image.digest },
            created: PodmanFormat.time(image.created), size: Int(image.size), virtualSize: Int(image.size),
            containers: containers, labels: image.config.labels, isParent: false, topLayer: image.layers.last ?? "",
            readOnly: false, history: [])
    }

    static func event(_ event: Event) -> IoPodman.Event {
        IoPodman.Event(
            id: event.id, image: event.attributes["image"] ?? "", name: event.name, status: event.status,
            time: PodmanFormat.time(event.time), type: event.type.rawValue)
    }

    static func logLine(_ line: LogLine, id: String) -> IoPodman.LogLine {
        IoPodman.LogLine(device: line.stream.rawValue, parseLogType: "F", time: PodmanFormat.time(line.time), msg: line.text, cid: id)
    }

    static func stats(_ stats: ContainerStats, previous: ContainerStats? = nil) -> IoPodman.ContainerStats {
        let limit = stats.memoryLimit ?? UInt64(ProcessInfo.processInfo.physicalMemory)
        return IoPodman.ContainerStats(
            id: stats.id, name: stats.name, cpu: 0, cpuNano: Int(clamping: stats.cpuNanoseconds),
            systemNano: Int(Date().timeIntervalSince1970 * 1e9), memUsage: Int(clamping: stats.memoryUsage),
            memLimit: Int(clamping: limit), memPerc: limit > 0 ? Double(stats.memoryUsage) / Double(limit) * 100 : 0,
            netInput: 0, netOutput: 0, blockOutput: Int(clamping: stats.blockWrite), blockInput: Int(clamping: stats.blockRead),
            pids: Int(clamping: stats.pids))
    }
}
