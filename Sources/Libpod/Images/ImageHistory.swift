import Foundation

/// One step of podman history: a history entry of the config with the layer it made.
public struct ImageHistoryStep: Sendable, Equatable {
    /// The image's ID on its newest step, `<missing>` below (podman's display).
    public var id: String
    public var created: Date?
    public var createdBy: String
    public var comment: String
    /// The bytes of the layer this step made (0 for a step that made none).
    public var size: Int64
    public var tags: [String]
}

extension ImageStore {
    /// The image's history, newest first. Steps marked `empty_layer` made no layer; the
    /// others are matched to the layers bottom up. An image without history (an import
    /// from an old tool) gets one step per layer.
    public func history(_ reference: String) throws(LibpodError) -> [ImageHistoryStep] {
        let image = try image(reference)
        var entries = image.config.history
        if entries.isEmpty {
            entries = image.layers.map { _ in ImageHistoryEntry(created: image.created, createdBy: "", author: "", comment: "", emptyLayer: false) }
        }
        var layers = image.layers[...]
        var steps: [ImageHistoryStep] = []
        for entry in entries {
            var size: Int64 = 0
            if !entry.emptyLayer, let diffID = layers.popFirst() { size = layerSize(diffID) }
            steps.append(ImageHistoryStep(id: "<missing>", created: entry.created, createdBy: entry.createdBy, comment: entry.comment, size: size, tags: image.names))
        }
        steps.reverse()
        if !steps.isEmpty { steps[0].id = image.id }
        return steps
    }
}
