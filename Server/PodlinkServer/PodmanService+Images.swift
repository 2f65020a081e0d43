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
        try await mapping {
            let image = try runtime.images.image(parameters.name)
            let layers = try runtime.images.layerDirectories(of: image)
            return .init(image: PodmanJSON.encode(ImageInspectJSON(image, driver: runtime.config.storageDriver.rawValue, layerDirectories: layers)))
        }
    }

    public func tagImage(_ parameters: IoPodman.Methods.TagImage.Parameters, call: VarlinkCall<IoPodman.Methods.TagImage.Reply>) async throws -> IoPodman.Methods.TagImage.Reply {
        try await mapping { .init(image: try await runtime.images.tag(parameters.name, as: parameters.tagged).id) }
    }

    public func untagImage(_ parameters: IoPodman.Methods.UntagImage.Parameters, call: VarlinkCall<IoPodman.Methods.UntagImage.Reply>) async throws -> IoPodman.Methods.UntagImage.Reply {
        try await mapping { .init(image: try await runtime.images.untag(parameters.name, name: parameters.tag).id) }
    }

    public func removeImage(_ parameters: IoPodman.Methods.RemoveImage.Parameters, call: VarlinkCall<IoPodman.Methods.RemoveImage.Reply>) async throws -> IoPodman.Methods.RemoveImage.Reply {
        try await mapping { .init(image: try await runtime.removeImage(parameters.name, force: parameters.force).id) }
    }

    public func imagesPrune(_ parameters: IoPodman.Methods.ImagesPrune.Parameters, call: VarlinkCall<IoPodman.Methods.ImagesPrune.Reply>) async throws -> IoPodman.Methods.ImagesPrune.Reply {
        guard parameters.filter.isEmpty else { throw invalid("prune filters are not supported yet; call without filters") }
        guard !parameters.all else { throw invalid("pruning all unused images is not supported yet; only dangling ones") }
        return try await mapping { .init(pruned: try await runtime.pruneImages()) }
    }

    /// The tarball is a path on the daemon's machine (as in podman 1.x), read as the daemon.
    public func importImage(_ parameters: IoPodman.Methods.ImportImage.Parameters, call: VarlinkCall<IoPodman.Methods.ImportImage.Reply>) async throws -> IoPodman.Methods.ImportImage.Reply {
        let overrides = try configChanges(parameters.changes)
        return try await mapping {
            // A sent file goes whatever happens: its client will not send it again.
            defer { if parameters.delete && runtime.transfers.holds(parameters.source) { unlink(parameters.source) } }
            let image = try await runtime.images.importRootfs(
                tarball: parameters.source, reference: parameters.reference, config: overrides, message: parameters.message)
            runtime.record(Event(type: .image, status: "import", id: image.id, name: parameters.reference))
            if parameters.delete { unlink(parameters.source) }
            return .init(image: image.id)
        }
    }

    /// Parameters bound by name (podman 1.x swapped `name` and `inputFile`).
    public func loadImage(_ parameters: IoPodman.Methods.LoadImage.Parameters, call: VarlinkCall<IoPodman.Methods.LoadImage.Reply>) async throws -> IoPodman.Methods.LoadImage.Reply {
        try await mapping {
            defer { if parameters.deleteFile && runtime.transfers.holds(parameters.inputFile) { unlink(parameters.inputFile) } }
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

extension PodmanService {
    /// podman images --filter: before=, since= (after=), dangling=, label=k[=v],
    /// reference=GLOB, id=, readonly=; all must hold.
    public func listImagesWithFilters(_ parameters: IoPodman.Methods.ListImagesWithFilters.Parameters, call: VarlinkCall<IoPodman.Methods.ListImagesWithFilters.Reply>) async throws -> IoPodman.Methods.ListImagesWithFilters.Reply {
        try await mapping {
            var images = try runtime.images.images()
            for filter in parameters.filters {
                let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw invalid("invalid filter \"\(filter)\": give KEY=VALUE") }
                let (key, value) = (parts[0], parts[1])
                switch key {
                case "before", "since", "after":
                    let pivot = try runtime.images.image(value).created
                    images = images.filter { key == "before" ? $0.created < pivot : $0.created > pivot }
                case "dangling":
                    guard let wanted = Bool(value) else { throw invalid("invalid filter \"\(filter)\": dangling takes true or false") }
                    images = images.filter { $0.names.isEmpty == wanted }
                case "readonly":
                    guard let wanted = Bool(value) else { throw invalid("invalid filter \"\(filter)\": readonly takes true or false") }
                    images = images.filter { _ in !wanted }
                case "label":
                    let pair = value.split(separator: "=", maxSplits: 1).map(String.init)
                    images = images.filter { image in
                        guard let label = image.config.labels[pair[0]] else { return false }
                        return pair.count == 1 ? !label.isEmpty : label == pair[1]
                    }
                case "reference":
                    images = images.filter { image in image.names.contains { fnmatch("*" + value + "*", $0, 0) == 0 } }
                case "id":
                    images = images.filter { $0.id == value || $0.id.hasPrefix(value) }
                default:
                    throw invalid("invalid filter \"\(filter)\": use before, since, dangling, label, reference, id or readonly")
                }
            }
            let counts = try await imageUsage()
            return .init(images: images.map { Conversions.image($0, containers: counts[$0.id] ?? 0) })
        }
    }

    /// podman rmi as podman-remote calls it: which names went, and the ID when the image did.
    public func removeImageWithResponse(_ parameters: IoPodman.Methods.RemoveImageWithResponse.Parameters, call: VarlinkCall<IoPodman.Methods.RemoveImageWithResponse.Reply>) async throws -> IoPodman.Methods.RemoveImageWithResponse.Reply {
        try await mapping {
            let removal = try await runtime.removeImage(parameters.name, force: parameters.force).removal
            return .init(response: IoPodman.RemoveImageResponse(untagged: removal.untagged, deleted: removal.deleted ?? ""))
        }
    }

    /// Every image no container uses, whatever its names (podman's DeleteUnusedImages).
    public func deleteUnusedImages(_ parameters: IoPodman.Methods.DeleteUnusedImages.Parameters, call: VarlinkCall<IoPodman.Methods.DeleteUnusedImages.Reply>) async throws -> IoPodman.Methods.DeleteUnusedImages.Reply {
        try await mapping { .init(images: try await runtime.removeUnusedImages()) }
    }

    /// podman image tree: the image's layers, bottom first, or (`whatRequires`) the images
    /// whose layers start with this image's.
    public func imageTree(_ parameters: IoPodman.Methods.ImageTree.Parameters, call: VarlinkCall<IoPodman.Methods.ImageTree.Reply>) async throws -> IoPodman.Methods.ImageTree.Reply {
        try await mapping {
            let image = try runtime.images.image(parameters.name)
            let all = try runtime.images.images()
            var text = "Image ID: \(image.id.prefix(12))\nTags:     [\(image.names.joined(separator: " "))]\nSize:     \(PodmanFormat.decimalSize(image.size))\n"
            guard !image.layers.isEmpty else { return .init(tree: text + "No Image Layers\n") }
            func tops(_ layer: String) -> String {
                let names = all.filter { $0.layers.last == layer }.flatMap(\.names)
                return names.isEmpty ? "" : " Top Layer of: [\(names.joined(separator: " "))]"
            }
            func line(_ layer: String, last: Bool, prefix: String = "") -> String {
                let size = PodmanFormat.decimalSize(runtime.images.layerSize(layer))
                let padded = String(repeating: " ", count: max(0, 7 - size.count)) + size
                return "\(prefix)\(last ? "└── " : "├── ") ID: \(layer.split(separator: ":").last.map { String($0.prefix(12)) } ?? layer) Size: \(padded)\(tops(layer))\n"
            }
            text += "Image Layers\n"
            if parameters.whatRequires {
                let children = all.filter { $0.id != image.id && $0.layers.count > image.layers.count && Array($0.layers.prefix(image.layers.count)) == image.layers }
                text += line(image.layers.last!, last: children.isEmpty)
                for (index, child) in children.enumerated() {
                    let last = index == children.count - 1
                    for (position, layer) in child.layers.dropFirst(image.layers.count).enumerated() {
                        text += line(layer, last: last && position == child.layers.count - image.layers.count - 1, prefix: "    ")
                    }
                }
            } else {
                for (index, layer) in image.layers.enumerated() { text += line(layer, last: index == image.layers.count - 1) }
            }
            return .init(tree: text)
        }
    }

    /// Every layer with its parent, children, size and the images it is the top of: JSON
    /// keyed by layer ID (podman's GetLayersMapWithImageInfo).
    public func getLayersMapWithImageInfo(_ parameters: IoPodman.Methods.GetLayersMapWithImageInfo.Parameters, call: VarlinkCall<IoPodman.Methods.GetLayersMapWithImageInfo.Reply>) async throws -> IoPodman.Methods.GetLayersMapWithImageInfo.Reply {
        try await mapping {
            let all = try runtime.images.images()
            var layers: [String: LayerInfoJSON] = [:]
            for image in all {
                for (index, layer) in image.layers.enumerated() {
                    var info = layers[layer] ?? LayerInfoJSON(ID: layer, ParentID: index > 0 ? image.layers[index - 1] : "", Size: runtime.images.layerSize(layer))
                    if index + 1 < image.layers.count, !(info.ChildID ?? []).contains(image.layers[index + 1]) {
                        info.ChildID = (info.ChildID ?? []) + [image.layers[index + 1]]
                    }
                    if index == image.layers.count - 1, !image.names.isEmpty { info.RepoTags = (info.RepoTags ?? []) + image.names }
                    layers[layer] = info
                }
            }
            let layerless = all.filter { $0.layers.isEmpty }.flatMap(\.names)
            layers[""] = LayerInfoJSON(ID: "", ParentID: "", RepoTags: layerless.isEmpty ? nil : layerless, Size: 0)
            return .init(layerMap: PodmanJSON.encode(SortedMap(layers)))
        }
    }

    /// The image with its layers, bottom first (podman's BuildImageHierarchyMap).
    public func buildImageHierarchyMap(_ parameters: IoPodman.Methods.BuildImageHierarchyMap.Parameters, call: VarlinkCall<IoPodman.Methods.BuildImageHierarchyMap.Reply>) async throws -> IoPodman.Methods.BuildImageHierarchyMap.Reply {
        struct Hierarchy: Encodable {
            var ID: String
            var Tags: [String]?
            var Layers: [LayerInfoJSON]?
        }
        return try await mapping {
            let image = try runtime.images.image(parameters.name)
            let layers = image.layers.enumerated().map { index, layer in
                LayerInfoJSON(
                    ID: layer, ParentID: index > 0 ? image.layers[index - 1] : "",
                    ChildID: index + 1 < image.layers.count ? [image.layers[index + 1]] : nil,
                    RepoTags: index == image.layers.count - 1 && !image.names.isEmpty ? image.names : nil,
                    Size: runtime.images.layerSize(layer))
            }
            return .init(imageInfo: PodmanJSON.encode(Hierarchy(ID: image.id, Tags: image.names.isEmpty ? nil : image.names, Layers: layers.isEmpty ? nil : layers)))
        }
    }
}

/// podman's LayerInfo (no JSON tags in Go, so its field names).
struct LayerInfoJSON: Encodable {
    var ID: String
    var ParentID: String
    var ChildID: [String]? = nil
    var RepoTags: [String]? = nil
    var Size: Int64
}

/// A map encoded with its keys in order, as Go's encoder writes maps.
struct SortedMap<Value: Encodable>: Encodable {
    var entries: [(String, Value)]

    init(_ dictionary: [String: Value]) {
        entries = dictionary.sorted { $0.key < $1.key }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        for (key, value) in entries { try container.encode(value, forKey: DynamicKey(key)) }
    }
}

/// podman import's `--change` instructions (Dockerfile syntax) for a rootfs image.
extension PodmanService {
    /// Dockerfile instructions (import's and commit's `changes`), refused as ErrorOccurred.
    func configChanges(_ changes: [String]) throws -> ImageConfigOverrides? {
        do {
            return try ImportChanges.parse(changes)
        } catch {
            throw invalid(error.description)
        }
    }
}

enum ImportChanges {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ changes: [String]) throws(Invalid) -> ImageConfigOverrides? {
        guard !changes.isEmpty else { return nil }
        var overrides = ImageConfigOverrides()
        for change in changes {
            // `CMD ls` as podman's CLI takes it, or `CMD=ls` as python-podman sends it:
            // whichever of the two separators comes first after the instruction.
            let separator = change.firstIndex { $0 == " " || $0 == "=" }
            let parts = separator.map { [String(change[..<$0]), String(change[change.index(after: $0)...])] } ?? [change]
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isLetter) else {
                throw Invalid(description: "change \"\(change)\" must be INSTRUCTION VALUE (or INSTRUCTION=VALUE)")
            }
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
            case "VOLUME": overrides.volumes = (overrides.volumes ?? []) + (value.hasPrefix("[") ? list : [value])
            default:
                throw Invalid(description: "change \"\(change)\": \(parts[0]) is not supported; use CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL, EXPOSE or VOLUME")
            }
        }
        return overrides
    }
}
