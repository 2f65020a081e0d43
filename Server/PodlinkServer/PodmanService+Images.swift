import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// Local images: list, inspect, tag, remove, prune, import and load.
extension PodmanService {
    /// How many containers use each image ID.
    func imageUsage() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for container in try await runtime.containers() { counts[container.config.imageID, default: 0] += 1 }
        return counts
    }

    public func listImages(_ parameters: IoPodman.Methods.ListImages.Parameters, call: VarlinkCall<IoPodman.Methods.ListImages.Reply>) async throws -> IoPodman.Methods.ListImages.Reply {
        try await mapping {
            let counts = try await imageUsage()
            return .init(images: try runtime.images.images().map { Conversions.image($0, containers: counts[$0.id] ?? 0) })
        }
    }

    public func getImage(_ parameters: IoPodman.Methods.GetImage.Parameters, call: VarlinkCall<IoPodman.Methods.GetImage.Reply>) async throws -> IoPodman.Methods.GetImage.Reply {
        try await mapping {
            let image = try runtime.images.image(parameters.id)
            return .init(image: Conversions.image(image, containers: try await imageUsage()[image.id] ?? 0))
        }
    }

    public func imageExists(_ parameters: IoPodman.Methods.ImageExists.Parameters, call: VarlinkCall<IoPodman.Methods.ImageExists.Reply>) async throws -> IoPodman.Methods.ImageExists.Reply {
        try await mapping { .init(exists: try runtime.images.exists(parameters.name) ? 0 : 1) }
    }

    public func inspectImage(_ parameters: IoPodman.Methods.InspectImage.Parameters, call: VarlinkCall<IoPodman.Methods.InspectImage.Reply>) async throws -> IoPodman.Methods.InspectImage.Reply {
        try await mapping { .init(image: ImageInspectJSON(try runtime.images.image(parameters.name)).inspectJSON()) }
    }

    public func tagImage(_ parameters: IoPodman.Methods.TagImage.Parameters, call: VarlinkCall<IoPodman.Methods.TagImage.Reply>) async throws -> IoPodman.Methods.TagImage.Reply {
        try await mapping { .init(image: try await runtime.images.tag(parameters.name, as: parameters.tagged).id) }
    }

    public func untagImage(_ parameters: IoPodman.Methods.UntagImage.Parameters, call: VarlinkCall<IoPodman.Methods.UntagImage.Reply>) async throws -> IoPodman.Methods.UntagImage.Reply {
        try await mapping { .init(image: try await runtime.images.untag(parameters.name, name: parameters.tag).id) }
    }

    public func removeImage(_ parameters: IoPodman.Methods.RemoveImage.Parameters, call: VarlinkCall<IoPodman.Methods.RemoveImage.Reply>) async throws -> IoPodman.Methods.RemoveImage.Reply {
        try await mapping { .init(image: try await runtime.removeImage(parameters.name, force: parameters.force)) }
    }

    public func imagesPrune(_ parameters: IoPodman.Methods.ImagesPrune.Parameters, call: VarlinkCall<IoPodman.Methods.ImagesPrune.Reply>) async throws -> IoPodman.Methods.ImagesPrune.Reply {
        guard parameters.filter.isEmpty else { throw invalid("prune filters are not supported yet; call without filters") }
        guard !parameters.all else { throw invalid("pruning all unused images is not supported yet; only dangling ones") }
        return try await mapping { .init(pruned: try await runtime.pruneImages()) }
    }

    /// The tarball is a path on the daemon's machine (as in podman 1.x), read as the daemon.
    public func importImage(_ parameters: IoPodman.Methods.ImportImage.Parameters, call: VarlinkCall<IoPodman.Methods.ImportImage.Reply>) async throws -> IoPodman.Methods.ImportImage.Reply {
        let overrides: ImageConfigOverrides?
        do {
            overrides = try ImportChanges.parse(parameters.changes)
        } catch {
            throw invalid(error.description)
        }
        return try await mapping {
            let image = try await runtime.images.importRootfs(tarball: parameters.source, reference: parameters.reference, config: overrides)
            runtime.record(Event(type: .image, status: "import", id: image.id, name: parameters.reference))
            if parameters.delete { unlink(parameters.source) }
            return .init(image: image.id)
        }
    }

    /// Parameters bound by name (podman 1.x swapped `name` and `inputFile`).
    public func loadImage(_ parameters: IoPodman.Methods.LoadImage.Parameters, call: VarlinkCall<IoPodman.Methods.LoadImage.Reply>) async throws -> IoPodman.Methods.LoadImage.Reply {
        try await mapping {
            var images = try await runtime.images.load(path: parameters.inputFile)
            if !parameters.name.isEmpty, let first = images.first {
                images[0] = try await runtime.images.tag(first.id, as: parameters.name)
            }
            for image in images { runtime.record(Event(type: .image, status: "loaded", id: image.id, name: image.names.first ?? "")) }
            if parameters.deleteFile { unlink(parameters.inputFile) }
            let logs = parameters.quiet ? [] : images.map { "Loaded image: \($0.names.first ?? $0.id)" }
            return .init(reply: IoPodman.MoreResponse(logs: logs, id: images.map(\.id).joined(separator: ",")))
        }
    }
}

/// podman import's `--change` instructions (Dockerfile syntax) for a rootfs image.
enum ImportChanges {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ changes: [String]) throws(Invalid) -> ImageConfigOverrides? {
        guard !changes.isEmpty else { return nil }
        var overrides = ImageConfigOverrides()
        for change in changes {
            let parts = change.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw Invalid(description: "change \"\(change)\" must be INSTRUCTION VALUE") }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            let list = (try? JSONDecoder().decode([String].self, from: Data(value.utf8))) ?? ["/bin/sh", "-c", value]
            switch parts[0].uppercased() {
            case "CMD": overrides.cmd = list
            case "ENTRYPOINT": overrides.entrypoint = list
            case "ENV":
                let pair = value.contains("=") ? value : value.replacingOccurrences(of: " ", with: "=", options: [], range: value.range(of: " "))
                overrides.env = (overrides.env ?? []) + [pair]
            case "WORKDIR": overrides.workingDir = value
            case "USER": overrides.user = value
            case "LABEL":
                let pair = value.split(separator: "=", maxSplits: 1).map(String.init)
                overrides.labels = (overrides.labels ?? [:]).merging([pair[0]: pair.count > 1 ? pair[1] : ""]) { $1 }
            case "STOPSIGNAL": overrides.stopSignal = value
            case "EXPOSE": overrides.exposedPorts = (overrides.exposedPorts ?? []) + [value]
            default:
                throw Invalid(description: "change \"\(change)\": \(parts[0]) is not supported; use CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL or EXPOSE")
            }
        }
        return overrides
    }
}
