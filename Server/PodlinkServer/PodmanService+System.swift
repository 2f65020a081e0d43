import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// Version, info and the event stream.
extension PodmanService {
    public func getVersion(_ parameters: IoPodman.Methods.GetVersion.Parameters, call: VarlinkCall<IoPodman.Methods.GetVersion.Reply>) async throws -> IoPodman.Methods.GetVersion.Reply {
        IoPodman.Methods.GetVersion.Reply(
            version: Self.version, goVersion: "swift", gitCommit: "", built: "", osArch: "linux/\(Self.architecture)",
            remoteApiVersion: 1)
    }

    static var architecture: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }

    public func getInfo(_ parameters: IoPodman.Methods.GetInfo.Parameters, call: VarlinkCall<IoPodman.Methods.GetInfo.Reply>) async throws -> IoPodman.Methods.GetInfo.Reply {
        try await mapping {
            let info = try await runtime.info()
            let host = info.host
            let store = info.store
            return .init(info: IoPodman.PodmanInfo(
                host: IoPodman.InfoHost(
                    buildahVersion: "n/a", distribution: IoPodman.InfoDistribution(distribution: host.distribution, version: host.distributionVersion),
                    memFree: Int(host.memFree), memTotal: Int(host.memTotal), swapFree: Int(host.swapFree),
                    swapTotal: Int(host.swapTotal), arch: host.arch, cpus: host.cpus, hostname: host.hostname,
                    kernel: host.kernel, os: host.os, uptime: PodmanFormat.uptime(host.uptimeSeconds), eventlogger: "file"),
                registries: IoPodman.InfoRegistry(search: info.registries, insecure: info.insecureRegistries, blocked: info.blockedRegistries),
                store: IoPodman.InfoStore(
                    containers: store.containerCount, images: store.imageCount, graphDriverName: store.storageDriver,
                    // Go's %v of the driver's options, as podman wrote it.
                    graphDriverOptions: "map[]", graphRoot: store.storageRoot,
                    graphStatus: IoPodman.InfoGraphStatus(
                        backingFilesystem: store.backingFilesystem, nativeOverlayDiff: store.storageDriver == "overlay" ? "true" : "false",
                        supportsDType: "true"),
                    runRoot: store.tmpDir),
                podman: IoPodman.InfoPodmanBinary(compiler: "swiftc", goVersion: "swift", podmanVersion: Self.version, gitCommit: "")))
        }
    }

    /// podman system reset, without stopping the service: every container (running ones
    /// killed) and every image is removed; the daemon goes on serving.
    public func reset(_ parameters: IoPodman.Methods.Reset.Parameters, call: VarlinkCall<IoPodman.Methods.Reset.Reply>) async throws -> IoPodman.Methods.Reset.Reply {
        try await mapping {
            try await runtime.reset()
            return .init()
        }
    }

    public func getEvents(_ parameters: IoPodman.Methods.GetEvents.Parameters, call: VarlinkCall<IoPodman.Methods.GetEvents.Reply>) async throws -> IoPodman.Methods.GetEvents.Reply {
        guard call.wantsMore else { throw IoPodman.WantsMoreRequired(reason: "GetEvents streams events: call it with more") }
        var filters: [(String, String)] = []
        for filter in parameters.filter {
            let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["type", "status", "event", "container", "image", "id", "name"].contains(parts[0]) else {
                throw invalid("invalid filter \"\(filter)\": use type=, event=, container=, image=, id= or name=")
            }
            filters.append((parts[0], parts[1]))
        }
        let since = try time(parameters.since, "since")
        let until = try time(parameters.until, "until")
        func matches(_ event: Event) -> Bool {
            filters.allSatisfy { key, value in
                switch key {
                case "type": event.type.rawValue == value
                case "status", "event": event.status == value
                case "container", "name": event.name == value || event.id.hasPrefix(value)
                case "id": event.id.hasPrefix(value)
                default: event.attributes["image"] == value || (event.type == .image && (event.name == value || event.id.hasPrefix(value)))
                }
            }
        }
        // Every event goes out as soon as it is written. Without `until` the stream follows
        // until the client hangs up (sending then fails); with it, it ends at that time.
        // The final reply, which varlink requires, is an empty event.
        if let until, until <= Date() {
            for event in try runtime.events.read(since: since).events where event.time <= until && matches(event) {
                try await call.sendContinues(IoPodman.Methods.GetEvents.Reply(events: Conversions.event(event)))
            }
        } else {
            for try await event in runtime.events.follow(since: since) {
                if let until, event.time > until { break }
                guard matches(event) else { continue }
                try await call.sendContinues(IoPodman.Methods.GetEvents.Reply(events: Conversions.event(event)))
            }
        }
        return IoPodman.Methods.GetEvents.Reply(events: IoPodman.Event(id: "", image: "", name: "", status: "", time: "", type: ""))
    }

    /// A time parameter: empty for none, else RFC 3339, unix seconds or a duration back
    /// from now; anything else is refused naming the parameter.
    func time(_ text: String, _ parameter: String) throws -> Date? {
        guard !text.isEmpty else { return nil }
        guard let date = PodmanFormat.parseTime(text) else {
            throw invalid("invalid \(parameter) \"\(text)\": give RFC 3339, unix seconds or a duration like 10m")
        }
        return date
    }
}
