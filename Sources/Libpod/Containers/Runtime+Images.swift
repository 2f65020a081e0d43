/// Image operations that need to know about containers: an image in use is not removed
/// unless forced, and forcing removes the containers made from it first (podman rmi -f).
extension Runtime {
    /// The containers (of every namespace this runtime sees) made from `imageID`.
    public func containers(usingImage imageID: String) async throws(LibpodError) -> [Container] {
        try await state.containers().filter { $0.config.imageID == imageID }
    }

    /// podman rmi: returns the image's ID and what went (names, and the image itself). A
    /// name of an image that has others only loses that name; otherwise the image goes,
    /// refused while containers use it unless `force`, which removes those containers first.
    @discardableResult
    public func removeImage(_ reference: String, force: Bool = false) async throws(LibpodError) -> (id: String, removal: ImageRemoval) {
        try checkValid()
        let image = try images.image(reference)
        let users = try await containers(usingImage: image.id)
        let removal: ImageRemoval
        do {
            removal = try await images.remove(reference, force: false, inUse: !users.isEmpty)
        } catch .imageInUse {
            guard force else {
                let names = users.prefix(5).map(\.name).joined(separator: ", ")
                throw .imageInUse("\(image.names.first ?? String(image.id.prefix(12))) (containers: \(names))")
            }
            for container in users { try await removeContainer(container.id, force: true) }
            removal = try await images.remove(reference, force: true, inUse: false)
        } catch .invalidArgument where force {
            // An ID naming an image with several names: forced, all of them go.
            removal = try await images.remove(reference, force: true, inUse: false)
        }
        record(Event(
            type: .image, status: removal.deleted == nil ? "untag" : "remove", id: image.id, name: image.names.first ?? ""))
        return (image.id, removal)
    }

    /// podman's DeleteUnusedImages: every image no container uses, whatever its names.
    /// Returns the removed IDs.
    public func removeUnusedImages() async throws(LibpodError) -> [String] {
        try checkValid()
        let used = Set(try await state.containers().map(\.config.imageID))
        var removed: [String] = []
        for image in try images.images() where !used.contains(image.id) {
            do {
                _ = try await images.remove(image.id, force: true, inUse: false)
                removed.append(image.id)
                record(Event(type: .image, status: "remove", id: image.id, name: image.names.first ?? ""))
            } catch .imageNotFound {
                continue
            }
        }
        return removed
    }

    /// podman image prune: dangling images no container uses, and unreferenced layers.
    public func pruneImages() async throws(LibpodError) -> [String] {
        try checkValid()
        let used = Set(try await state.containers().map(\.config.imageID))
        return try await images.prune(keeping: used)
    }
}
