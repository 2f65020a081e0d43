import Foundation
import Libpod
import PodlinkInterfaces

/// Libpod's records in io.podman's types, as podman 1.9 filled them.
enum Conversions {
    static func container(_ container: Container, now: Date = Date(), mounts: [IoPodman.ContainerMount] = []) -> IoPodman.Container {
        let state = container.state
        let running = state.status == .running
        let namespace = { (kind: String) in running && state.pid > 0 ? "/proc/\(state.pid)/ns/\(kind)" : "" }
        return IoPodman.Container(
            id: container.id, image: container.config.imageName, imageid: container.config.imageID,
            command: container.config.command, createdat: PodmanFormat.seconds(container.config.created),
            runningfor: PodmanFormat.duration(now.timeIntervalSince(container.config.created)),
            status: state.status.rawValue,
            ports: container.config.portMappings.map {
                IoPodman.ContainerPortMappings(
                    hostPort: String($0.hostPort), hostIp: $0.hostIP, protocol: $0.protocol, containerPort: String($0.containerPort))
            },
            rootfssize: 0, rwsize: 0, names: container.name,
            labels: container.config.labels,
            mounts: mounts.isEmpty
                ? container.config.mounts.map {
                    IoPodman.ContainerMount(destination: $0.destination, type: "bind", source: $0.source, options: $0.readOnly ? ["ro"] : ["rw"])
                } : mounts,
            containerrunning: running,
            namespaces: IoPodman.ContainerNameSpace(
                user: "", uts: namespace("uts"), pidns: namespace("pid"), pid: String(state.pid),
                cgroup: namespace("cgroup"), net: container.config.network == .host ? "host" : namespace("net"),
                mnt: namespace("mnt"), ipc: namespace("ipc")))
    }

    static func image(_ image: Image, containers: Int) -> IoPodman.Image {
        IoPodman.Image(
            id: image.id, digest: image.digest, digests: [image.digest], parentId: "", repoTags: image.names,
            repoDigests: repoDigests(image), created: PodmanFormat.seconds(image.created), size: Int(image.size),
            virtualSize: Int(image.size), containers: containers, labels: image.config.labels, isParent: false,
            topLayer: image.layers.last ?? "", readOnly: false, history: [])
    }

    /// podman's ps PORTS: `0.0.0.0:8080->80/tcp`, runs of consecutive ports as ranges
    /// (`0.0.0.0:8000-8002->80-82/tcp`), in container port order.
    static func ports(_ mappings: [PortMapping]) -> String {
        let sorted = mappings.sorted { ($0.protocol, $0.containerPort, $0.hostIP) < ($1.protocol, $1.containerPort, $1.hostIP) }
        var groups: [(first: PortMapping, count: Int)] = []
        for mapping in sorted {
            if let last = groups.last, last.first.protocol == mapping.protocol, last.first.hostIP == mapping.hostIP,
                Int(last.first.containerPort) + last.count == Int(mapping.containerPort),
                Int(last.first.hostPort) + last.count == Int(mapping.hostPort)
            {
                groups[groups.count - 1].count += 1
            } else {
                groups.append((mapping, 1))
            }
        }
        return groups.map { group in
            let ip = group.first.hostIP.isEmpty ? "0.0.0.0" : group.first.hostIP
            func span(_ start: UInt16) -> String { group.count == 1 ? "\(start)" : "\(start)-\(Int(start) + group.count - 1)" }
            return "\(ip):\(span(group.first.hostPort))->\(span(group.first.containerPort))/\(group.first.protocol)"
        }.joined(separator: ", ")
    }

    /// `name@digest` for each of the image's names (their tags dropped), sorted, once each.
    static func repoDigests(_ image: Image) -> [String] {
        Set(image.names.map { name -> String in
            let withoutTag = name.lastIndex(of: ":").map { colon in
                name[colon...].contains("/") ? name : String(name[..<colon])
            } ?? name
            return withoutTag + "@" + image.digest
        }).sorted()
    }

    static func event(_ event: Event) -> IoPodman.Event {
        IoPodman.Event(
            id: event.id, image: event.attributes["image"] ?? "", name: event.name, status: event.status,
            time: PodmanFormat.time(event.time), type: event.type.rawValue)
    }

    static func logLine(_ line: LogLine, id: String) -> IoPodman.LogLine {
        IoPodman.LogLine(device: line.stream.rawValue, parseLogType: "F", time: PodmanFormat.time(line.time), msg: line.text, cid: id)
    }

    /// Statistics; with `previous`, CPU use is the share of the time since it (podman's
    /// GetContainerStatsWithHistory), else since the container started.
    static func stats(_ stats: ContainerStats, previous: (cpuNanoseconds: Int, systemNanoseconds: Int)? = nil) -> IoPodman.ContainerStats {
        let limit = stats.memoryLimit.map { min($0, UInt64(ProcessInfo.processInfo.physicalMemory)) } ?? UInt64(ProcessInfo.processInfo.physicalMemory)
        let now = Int(Date().timeIntervalSince1970 * 1e9)
        let cpu = Int(clamping: stats.cpuNanoseconds)
        var percent = 0.0
        if let previous, cpu > previous.cpuNanoseconds, now > previous.systemNanoseconds {
            percent = Double(cpu - previous.cpuNanoseconds) / Double(now - previous.systemNanoseconds) * 100
        }
        return IoPodman.ContainerStats(
            id: stats.id, name: stats.name, cpu: percent, cpuNano: cpu, systemNano: now,
            memUsage: Int(clamping: stats.memoryUsage), memLimit: Int(clamping: limit),
            memPerc: limit > 0 ? Double(stats.memoryUsage) / Double(limit) * 100 : 0,
            netInput: 0, netOutput: 0, blockOutput: Int(clamping: stats.blockWrite), blockInput: Int(clamping: stats.blockRead),
            pids: Int(clamping: stats.pids))
    }
}
