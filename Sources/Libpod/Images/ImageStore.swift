import Foundation
import Glibc
import ProcessSpawn
import Synchronization

/// The local image store: images come from tarballs and archives on this machine only.
///
/// Layout under `root`:
/// - `layers/<diffID hex>/`: extracted layers, named by the sha256 of their uncompressed
///   tar stream, shared by every image that has them;
/// - `images/<image ID>/config.json` and `manifest.json`: the image ID is the sha256 of
///   the config bytes, as in podman;
/// - `blobs/<digest hex>`: each layer's tar as it arrived (compressed as pulled, or as
///   loaded), so that push and save hand out the very bytes the config's diff_ids and the
///   manifest's digests name; re-packing the extracted files would not reproduce them;
/// - `images.json`: the index (names, layers, created, size, digest), replaced atomically;
/// - `tmp/`: work directories, each held by a lock file while its operation runs.
///
/// Several processes share a store: every change to the index, and every rename into or
/// out of `layers/` and `images/`, happens under `images.lock`. Extraction and deletion
/// run outside it, in `tmp/`, so a crash never leaves a half layer under its final name
/// and another process never waits for an extraction.
public final class ImageStore: Sendable {
    public let root: String
    let layersDirectory: String
    let imagesDirectory: String
    let blobsDirectory: String
    let workDirectory: String
    let indexPath: String
    let lockPath: String
    private let cache = Mutex<Cache>(Cache())

    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    static let refNameAnnotation = "org.opencontainers.image.ref.name"
    /// JSON blobs (manifests, configs, indexes) larger than this are refused unread.
    static let maximumJSONSize: Int64 = 16 << 20

    /// Opens (creating as needed) the store at `root`, an absolute path, and removes work
    /// directories left by processes that died.
    public init(root: String) throws(LibpodError) {
        guard root.hasPrefix("/") else {
            throw .invalidArgument("the image store root must be an absolute path, not \"\(root)\"")
        }
        self.root = root
        layersDirectory = root + "/layers"
        imagesDirectory = root + "/images"
        blobsDirectory = root + "/blobs"
        workDirectory = root + "/tmp"
        indexPath = root + "/images.json"
        lockPath = root + "/images.lock"
        for directory in [root, layersDirectory, imagesDirectory, blobsDirectory, workDirectory] {
            try FileSystem.ensureDirectory(directory, mode: 0o700)
        }
        removeAbandonedWork()
    }

    // MARK: - Reading

    /// Every image, in the order they were added.
    public func images() throws(LibpodError) -> [Image] {
        try readIndex().images.map { record throws(LibpodError) in try makeImage(record) }
    }

    /// The image a reference stands for: a full ID, a name, a short name (`busybox` is
    /// `localhost/busybox:latest`, else `docker.io/library/busybox:latest`), `name@digest`,
    /// or a unique ID prefix.
    public func image(_ reference: String) throws(LibpodError) -> Image {
        try makeImage(resolve(reference, in: readIndex()).record)
    }

    /// Whether `reference` finds an image; an ambiguous ID prefix is still an error.
    public func exists(_ reference: String) throws(LibpodError) -> Bool {
        do {
            _ = try resolve(reference, in: readIndex())
            return true
        } catch {
            if case .imageNotFound = error { return false }
            throw error
        }
    }

    /// The image's extracted layer directories, TOP-most first: the order of overlayfs's
    /// `lowerdir=`. A layer that occurs twice is given once, at its upper place (the
    /// lower copy is entirely shadowed by the upper one, and overlayfs refuses the same
    /// directory twice).
    public func layerDirectories(of image: Image) throws(LibpodError) -> [String] {
        var seen = Set<String>()
        var directories: [String] = []
        for diffID in image.layers.reversed() where seen.insert(diffID).inserted {
            guard Digest.isValidSHA256(diffID) else {
                throw .damaged(what: "image \(image.id.prefix(12)) lists the layer \"\(diffID)\", which is not a sha256 digest", advice: "remove the image and load it again")
            }
            let directory = layerDirectory(diffID)
            guard FileSystem.isDirectory(directory) else {
                throw .damaged(
                    what: "layer \(diffID) of image \(image.id.prefix(12)) is missing from \(layersDirectory)",
                    advice: "remove the image and import or load it again")
            }
            directories.append(directory)
        }
        return directories
    }

    // MARK: - Adding images

    /// podman import: a root filesystem tarball (plain or compressed) becomes a one-layer
    /// image named `reference` (`localhost/` and `:latest` added as needed; "" leaves it
    /// without a name). Its config is `config`, on top of podman's default PATH.
    public func importRootfs(
        tarball path: String, reference: String, config overrides: ImageConfigOverrides? = nil, message: String = ""
    ) async throws(LibpodError) -> Image {
        let names = reference.isEmpty ? [] : [try ImageName.storageName(reference)]
        try requireRegularFile(path, what: "the tarball")
        return try await withWorkDirectory { work throws(LibpodError) in
            var extracted: [String: StagedLayer] = [:]
            let layer = try await stageLayer(path, key: path, in: work, cache: &extracted)
            let created = RFC3339.now()
            let configFile = OCIImageConfigFile(
                created: created, author: nil, architecture: Self.architecture, os: "linux",
                config: Self.containerSection(overrides),
                rootfs: .init(type: "layers", diffIDs: [layer.diffID]),
                history: [.init(created: created, createdBy: nil, comment: message.isEmpty ? "imported from tarball" : message)])
            let configBytes = try OCIJSON.encode(configFile)
            let staged = StagedImage(
                configBytes: configBytes, manifestBytes: try Self.manifest(config: configBytes, layers: [layer]), names: names,
                layers: [layer], created: created)
            return try await commit([staged])[0]
        }
    }

    /// podman load: a docker-archive tarball, an oci-archive tarball or an OCI layout
    /// directory. Every blob is checked against its digest and every layer against the
    /// config's diff_ids before anything enters the store; on any failure nothing does.
    public func load(path: String) async throws(LibpodError) -> [Image] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .invalidArgument("cannot load \(path): \(String(cString: strerror(errno)))")
        }
        return try await withWorkDirectory { work throws(LibpodError) in
            let layout: String
            if info.st_mode & S_IFMT == S_IFDIR {
                layout = path
            } else {
                layout = work.path + "/archive"
                try FileSystem.ensureDirectory(layout, mode: 0o700)
                _ = try await Self.blocking { () throws(LibpodError) in
                    try LayerArchive.extract(path, into: layout, mode: .files)
                }
            }
            let staged: [StagedImage]
            if FileSystem.exists(layout + "/oci-layout") {
                staged = try await stageOCILayout(layout, origin: path, work: work)
            } else if FileSystem.exists(layout + "/manifest.json") {
                staged = try await stageDockerArchive(layout, origin: path, work: work)
            } else {
                throw .invalidArchive(
                    path: path, reason: "it has neither oci-layout (an OCI layout or oci-archive) nor manifest.json (a docker-archive)")
            }
            guard !staged.isEmpty else { throw .invalidArchive(path: path, reason: "it holds no image") }
            return try await commit(staged)
        }
    }

    // MARK: - Names and removal

    /// Adds `newName` (normalised: `localhost/` and `:latest` as needed) to the image;
    /// another image that had the name loses it, as in podman.
    @discardableResult
    public func tag(_ reference: String, as newName: String) async throws(LibpodError) -> Image {
        let name = try ImageName.storageName(newName)
        let id = try await mutate { index, _ throws(LibpodError) -> String in
            let record = try resolve(reference, in: index).record
            Self.claim([name], for: record.id, in: &index)
            return record.id
        }
        return try image(id)
    }

    /// Removes one name from the image; the image stays, dangling if it was its last.
    @discardableResult
    public func untag(_ reference: String, name: String) async throws(LibpodError) -> Image {
        let id = try await mutate { index, _ throws(LibpodError) -> String in
            let record = try resolve(reference, in: index).record
            let candidates = [name] + ImageName.lookupCandidates(name)
            guard let position = index.images.firstIndex(where: { $0.id == record.id }),
                let found = candidates.first(where: { record.names.contains($0) })
            else {
                let names = record.names.isEmpty ? "none" : record.names.joined(separator: ", ")
                throw .invalidArgument("image \(record.id.prefix(12)) has no name \"\(name)\"; its names: \(names)")
            }
            index.images[position].names.removeAll { $0 == found }
            return record.id
        }
        return try image(id)
    }

    /// podman rmi. Given a name of an image that has others, only that name goes.
    /// Otherwise the image goes, with the layers no other image has: refused when
    /// `inUse` (the caller knows its containers) or when an ID names an image with
    /// several names, unless `force`.
    @discardableResult
    public func remove(_ reference: String, force: Bool, inUse: Bool) async throws(LibpodError) -> ImageRemoval {
        try await mutate { index, retired throws(LibpodError) -> ImageRemoval in
            let (record, matchedName) = try resolve(reference, in: index)
            if let matchedName, record.names.count > 1,
                let position = index.images.firstIndex(where: { $0.id == record.id })
            {
                index.images[position].names.removeAll { $0 == matchedName }
                return ImageRemoval(untagged: [matchedName], deleted: nil, deletedLayers: [])
            }
            if inUse && !force { throw .imageInUse(reference) }
            if matchedName == nil && record.names.count > 1 && !force {
                throw .invalidArgument(
                    "image \(record.id.prefix(12)) has several names (\(record.names.joined(separator: ", "))); remove them one at a time, or force the removal")
            }
            index.images.removeAll { $0.id == record.id }
            retired.append(imagesDirectory + "/" + record.id)
            let unused = retireUnusedLayers(of: record.layers, in: &index, retired: &retired)
            return ImageRemoval(untagged: record.names, deleted: record.id, deletedLayers: unused)
        }
    }

    /// podman image prune: removes images without names (except those in `keeping`, the
    /// IDs containers use), layers no image has, and leftovers of interrupted work.
    /// Returns the removed image IDs.
    @discardableResult
    public func prune(keeping idsInUse: Set<String> = []) async throws(LibpodError) -> [String] {
        let removed = try await mutate { index, retired throws(LibpodError) -> [String] in
            let dangling = index.images.filter { $0.names.isEmpty && !idsInUse.contains($0.id) }.map(\.id)
            index.images.removeAll { dangling.contains($0.id) }
            let known = Set(index.images.map(\.id))
            for name in FileSystem.list(imagesDirectory) where !known.contains(name) {
                retired.append(imagesDirectory + "/" + name)
            }
            let used = Set(index.images.flatMap(\.layers))
            for name in FileSystem.list(layersDirectory) where !used.contains(Digest.prefix + name) {
                retired.append(layersDirectory + "/" + name)
            }
            index.layers = index.layers.filter { used.contains($0.key) }
            let blobs = Set(index.layers.values.compactMap { $0.blob.map(Digest.hexPart) })
            for name in FileSystem.list(blobsDirectory) where !blobs.contains(name) {
                retired.append(blobsDirectory + "/" + name)
            }
            return dangling
        }
        removeAbandonedWork()
        return removed
    }

    /// The bytes of a layer's extracted files, by its diffID (0 for one not in the store).
    public func layerSize(_ diffID: String) -> Int64 {
        (try? readIndex().layers[diffID]?.size) ?? 0
    }

    /// The image's config exactly as stored, for callers that need what Podlink does
    /// not model.
    public func configBytes(of image: Image) throws(LibpodError) -> [UInt8] {
        let path = imagesDirectory + "/" + image.id + "/config.json"
        guard let bytes = try FileSystem.read(path) else {
            throw .damaged(what: "the config of image \(image.id.prefix(12)) is missing (\(path))", advice: "remove the image and load it again")
        }
        return bytes
    }

    // MARK: - Index

    struct ImageRecord: Codable, Sendable, Equatable {
        var id: String
        var names: [String]
        /// diffIDs, bottom first.
        var layers: [String]
        /// RFC 3339, as the config says.
        var created: String
        var size: Int64
        var digest: String
        /// Repositories it was pulled from by digest alone (no tag to name it by), so that
        /// `repository@digest` still finds it.
        var repositories: [String]? = nil
    }

    struct LayerRecord: Codable, Sendable, Equatable {
        var size: Int64
        /// The layer's tar as it arrived, in `blobs/`: digest, size and media type.
        var blob: String? = nil
        var blobSize: Int64? = nil
        var blobMediaType: String? = nil
    }

    struct StoreIndex: Codable, Sendable, Equatable {
        var images: [ImageRecord] = []
        var layers: [String: LayerRecord] = [:]
    }

    /// Which version of images.json the cache holds: every write is a rename, so a new
    /// version is a new inode.
    private struct IndexVersion: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
    }

    private struct Cache: Sendable {
        var version: IndexVersion?
        var index = StoreIndex()
        /// Configs never change (their ID is their digest), so they are kept for good.
        var configs: [String: ImageConfig] = [:]
    }

    func layerDirectory(_ diffID: String) -> String { layersDirectory + "/" + Digest.hexPart(diffID) }
    func blobPath(_ digest: String) -> String { blobsDirectory + "/" + Digest.hexPart(digest) }

    func readIndex() throws(LibpodError) -> StoreIndex {
        let descriptor = open(indexPath, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return StoreIndex() }
            throw FileSystem.failure("opening", indexPath)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw FileSystem.failure("examining", indexPath) }
        let version = IndexVersion(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec)
        if let cached = cache.withLock({ $0.version == version ? $0.index : nil }) { return cached }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + filled, $0.count - filled, off_t(filled)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw FileSystem.failure("reading", indexPath) }
            filled += count
        }
        let index: StoreIndex
        do {
            index = try JSONDecoder().decode(StoreIndex.self, from: Data(bytes))
        } catch {
            throw .damaged(what: "the image index \(indexPath) is damaged (\(error))", advice: "move it away and load the images again")
        }
        cache.withLock {
            $0.version = version
            $0.index = index
        }
        return index
    }

    private func writeIndex(_ index: StoreIndex) throws(LibpodError) {
        try FileSystem.writeAtomically(indexPath, try OCIJSON.encode(index), mode: 0o600, durable: true)
    }

    /// Runs `body` on the current index under the store lock and writes what it changed.
    /// Paths `body` puts in `retired` are renamed out of the store before the lock is
    /// released (so no one else can start using them) and deleted after.
    private func mutate<T>(_ body: (inout StoreIndex, inout [String]) throws(LibpodError) -> T) async throws(LibpodError) -> T {
        let lock = try await FileLock.acquire(path: lockPath)
        let result: T
        var trash: WorkDirectory?
        do throws(LibpodError) {
            var index = try readIndex()
            let before = index
            var retired: [String] = []
            result = try body(&index, &retired)
            if index != before { try writeIndex(index) }
            if !retired.isEmpty {
                let bin = try makeWorkDirectory()
                trash = bin
                for (number, path) in retired.enumerated() where rename(path, "\(bin.path)/\(number)") != 0 && errno != ENOENT {
                    // Cannot move it aside; delete it in place, still under the lock.
                    try FileSystem.removeTree(path)
                }
            }
        } catch {
            lock.release()
            if let trash { await discard(trash) }
            throw error
        }
        lock.release()
        if let trash { await discard(trash) }
        return result
    }

    /// Gives `names` to image `id`, taking them from any other image.
    private static func claim(_ names: [String], for id: String, in index: inout StoreIndex) {
        for position in index.images.indices {
            if index.images[position].id == id {
                for name in names where !index.images[position].names.contains(name) {
                    index.images[position].names.append(name)
                }
            } else {
                index.images[position].names.removeAll { names.contains($0) }
            }
        }
    }

    /// Drops from the index, and queues for deletion, the layers of `layers` no remaining
    /// image uses.
    private func retireUnusedLayers(of layers: [String], in index: inout StoreIndex, retired: inout [String]) -> [String] {
        let used = Set(index.images.flatMap(\.layers))
        var unused: [String] = []
        for diffID in layers where !used.contains(diffID) && !unused.contains(diffID) {
            unused.append(diffID)
            let blob = index.layers[diffID]?.blob
            index.layers[diffID] = nil
            retired.append(layerDirectory(diffID))
            if let blob, !index.layers.values.contains(where: { $0.blob == blob }) { retired.append(blobPath(blob)) }
        }
        return unused
    }

    // MARK: - Resolving references

    func resolve(_ reference: String, in index: StoreIndex) throws(LibpodError) -> (record: ImageRecord, matchedName: String?) {
        let bare = reference.hasPrefix(Digest.prefix) ? String(reference.dropFirst(Digest.prefix.count)) : reference
        if Digest.isHex64(bare), let record = index.images.first(where: { $0.id == bare }) { return (record, nil) }
        for candidate in [reference] + ImageName.lookupCandidates(reference) {
            if let record = index.images.first(where: { $0.names.contains(candidate) }) { return (record, candidate) }
        }
        // podman's rule for a short name no candidate matched: an image of any registry
        // whose name ends in it (`busybox:1` finds `quay.io/x/busybox:1`), when only one does.
        let parsed = ImageName.parse(reference)
        if parsed.digest == nil, !ImageName.hasDomain(parsed.repository), (try? ImageName.validate(parsed, original: reference)) != nil {
            let suffix = "/" + parsed.repository + ":" + (parsed.tag ?? "latest")
            let matches = index.images.filter { record in record.names.contains { $0.hasSuffix(suffix) } }
            if matches.count == 1, let name = matches[0].names.first(where: { $0.hasSuffix(suffix) }) { return (matches[0], name) }
            if matches.count > 1 {
                throw .invalidArgument(
                    "\"\(reference)\" is ambiguous: \(matches.flatMap { $0.names.filter { $0.hasSuffix(suffix) } }.joined(separator: ", ")) all match; give the full name")
            }
        }
        if let (repositories, digest) = ImageName.digestCandidates(reference) {
            for repository in repositories {
                let match = index.images.first { record in
                    record.digest == digest
                        && (record.names.contains { ImageName.repository(of: $0) == repository } || record.repositories?.contains(repository) == true)
                }
                if let match { return (match, nil) }
            }
        }
        if !bare.isEmpty && bare.utf8.allSatisfy(Digest.isLowerHex) {
            let matches = index.images.filter { $0.id.hasPrefix(bare) }
            if matches.count == 1 { return (matches[0], nil) }
            if matches.count > 1 { throw .ambiguousImageID(prefix: bare, matches: matches.map(\.id)) }
        }
        throw .imageNotFound(reference)
    }

    private func makeImage(_ record: ImageRecord) throws(LibpodError) -> Image {
        Image(
            id: record.id, names: record.names, digest: record.digest,
            created: RFC3339.parse(record.created) ?? Date(timeIntervalSince1970: 0), size: record.size,
            layers: record.layers, config: try imageConfig(record.id))
    }

    private func imageConfig(_ id: String) throws(LibpodError) -> ImageConfig {
        if let cached = cache.withLock({ $0.configs[id] }) { return cached }
        let path = imagesDirectory + "/" + id + "/config.json"
        guard let bytes = try FileSystem.read(path) else {
            throw .damaged(what: "the config of image \(id.prefix(12)) is missing (\(path))", advice: "remove the image and load it again")
        }
        let config: ImageConfig
        do {
            config = try JSONDecoder().decode(OCIImageConfigFile.self, from: Data(bytes)).imageConfig
        } catch {
            throw .damaged(what: "the config of image \(id.prefix(12)) (\(path)) is not a valid OCI image config: \(error)", advice: "remove the image and load it again")
        }
        cache.withLock { $0.configs[id] = config }
        return config
    }

    // MARK: - Staging

    struct StagedLayer: Sendable {
        var diffID: String
        /// Where it was extracted, in a work directory; "" for a layer the store has.
        var directory: String
        var size: Int64
        var tarSize: Int64
        var blob: StagedBlob?
    }

    /// A layer's tar kept for push and save, in a work directory until the commit.
    struct StagedBlob: Sendable {
        var path: String
        var digest: String
        var size: Int64
        var mediaType: String
    }

    struct StagedImage: Sendable {
        var configBytes: [UInt8]
        var manifestBytes: [UInt8]
        var names: [String]
        var layers: [StagedLayer]
        var created: String
        var repositories: [String] = []
    }

    /// Moves staged layers and configs to their final names and records the images, under
    /// the lock. A layer or image already present is kept (same digest, same content).
    func commit(_ staged: [StagedImage]) async throws(LibpodError) -> [Image] {
        // What this commit put in the store's directories: taken back out if it fails (a
        // full disk, say), since the index that would name them is not written then.
        var placed: [String] = []
        let ids: [String]
        do throws(LibpodError) {
            ids = try await mutate { index, _ throws(LibpodError) -> [String] in
                var ids: [String] = []
                for image in staged {
                    for layer in image.layers {
                        let final = layerDirectory(layer.diffID)
                        if !FileSystem.isDirectory(final) {
                            guard !layer.directory.isEmpty else {
                                throw .damaged(what: "the layer \(layer.diffID) went from the store while an image was added", advice: "add the image again")
                            }
                            guard rename(layer.directory, final) == 0 else {
                                throw FileSystem.failure("moving the layer \(layer.directory) to", final)
                            }
                            placed.append(final)
                        }
                        var record = index.layers[layer.diffID] ?? LayerRecord(size: layer.size)
                        if record.blob == nil, let blob = layer.blob {
                            let blobFinal = blobPath(blob.digest)
                            if !FileSystem.exists(blobFinal) {
                                guard rename(blob.path, blobFinal) == 0 else { throw FileSystem.failure("moving the blob \(blob.path) to", blobFinal) }
                                placed.append(blobFinal)
                            }
                            record.blob = blob.digest
                            record.blobSize = blob.size
                            record.blobMediaType = blob.mediaType
                        }
                        index.layers[layer.diffID] = record
                    }
                    let id = Digest.hexPart(Digest.sha256(image.configBytes))
                    let directory = imagesDirectory + "/" + id
                    if !FileSystem.isDirectory(directory) {
                        // Written beside, then renamed: a config is never seen half written.
                        let temporary = "\(imagesDirectory)/.\(id)-\(getpid())"
                        try FileSystem.removeTree(temporary)
                        placed.append(temporary)
                        try FileSystem.ensureDirectory(temporary, mode: 0o700)
                        try FileSystem.writeAtomically(temporary + "/config.json", image.configBytes, durable: true)
                        try FileSystem.writeAtomically(temporary + "/manifest.json", image.manifestBytes, durable: true)
                        guard rename(temporary, directory) == 0 else {
                            throw FileSystem.failure("moving the image config to", directory)
                        }
                        placed[placed.count - 1] = directory
                    }
                    if !index.images.contains(where: { $0.id == id }) {
                        let size = image.layers.reduce(Int64(0)) { $0 + (index.layers[$1.diffID]?.size ?? $1.size) }
                        index.images.append(
                            ImageRecord(
                                id: id, names: [], layers: image.layers.map(\.diffID), created: image.created, size: size,
                                digest: Digest.sha256(image.manifestBytes)))
                    }
                    if !image.repositories.isEmpty, let position = index.images.firstIndex(where: { $0.id == id }) {
                        let known = index.images[position].repositories ?? []
                        index.images[position].repositories = known + image.repositories.filter { !known.contains($0) }
                    }
                    Self.claim(image.names, for: id, in: &index)
                    ids.append(id)
                }
                return ids
            }
        } catch {
            for path in placed.reversed() { try? FileSystem.removeTree(path) }
            throw error
        }
        return try ids.map { id throws(LibpodError) in try image(id) }
    }

    /// Extracts one layer into the work directory, once per `key` (an archive may list
    /// the same layer file for several images).
    private func stageLayer(
        _ file: String, key: String, in work: WorkDirectory, cache: inout [String: StagedLayer], blobDigest: String? = nil
    ) async throws(LibpodError) -> StagedLayer {
        if let layer = cache[key] { return layer }
        let layer = try await stageLayer(file, number: cache.count, in: work, blobDigest: blobDigest)
        cache[key] = layer
        return layer
    }

    /// Extracts the layer tar `file` into `layer-N` of the work directory and keeps the
    /// tar itself beside it as `blob-N` (moved when `file` is in the work directory, else
    /// linked when it can be, else copied) for push and save.
    func stageLayer(_ file: String, number: Int, in work: WorkDirectory, blobDigest: String?) async throws(LibpodError) -> StagedLayer {
        let directory = "\(work.path)/layer-\(number)"
        let blobFile = "\(work.path)/blob-\(number)"
        try FileSystem.ensureDirectory(directory, mode: 0o755)
        // The layer's root becomes the container's "/": it must be searchable by all.
        chmod(directory, 0o755)
        let workPath = work.path
        return try await Self.blocking { () throws(LibpodError) in
            let extracted = try LayerArchive.extract(file, into: directory, mode: .layer)
            var layer = StagedLayer(diffID: extracted.diffID, directory: directory, size: extracted.size, tarSize: extracted.tarSize)
            if file.hasPrefix(workPath + "/") {
                guard rename(file, blobFile) == 0 else { throw FileSystem.failure("moving the layer tar", file) }
            } else {
                try FileSystem.linkOrCopy(file, to: blobFile)
            }
            let mediaType = Self.layerMediaType(of: blobFile)
            let digest: String
            let size: Int64
            if let blobDigest {
                (digest, size) = (blobDigest, try FileSystem.size(of: blobFile))
            } else if mediaType != MediaType.ociLayerTar {
                (digest, size) = try Digest.sha256(file: blobFile)
            } else {
                (digest, size) = (extracted.diffID, extracted.tarSize)
            }
            layer.blob = StagedBlob(path: blobFile, digest: digest, size: size, mediaType: mediaType)
            return layer
        }
    }

    /// The OCI media type of a layer tar, from its first bytes.
    static func layerMediaType(of path: String) -> String {
        let magic = FileSystem.magic(path)
        if magic.starts(with: [0x1f, 0x8b]) { return MediaType.ociLayerGzip }
        if magic == [0x28, 0xb5, 0x2f, 0xfd] { return MediaType.ociLayerZstd }
        return MediaType.ociLayerTar
    }

    private func stageDockerArchive(_ layout: String, origin: String, work: WorkDirectory) async throws(LibpodError) -> [StagedImage] {
        let entries = try OCIJSON.decode(
            [DockerArchiveEntry].self, try readJSONFile(try member("manifest.json", in: layout, origin: origin), origin: origin),
            what: "manifest.json", archive: origin)
        var extracted: [String: StagedLayer] = [:]
        var staged: [StagedImage] = []
        for entry in entries {
            let configBytes = try readJSONFile(try member(entry.config, in: layout, origin: origin), origin: origin)
            let configDigest = Digest.sha256(configBytes)
            // docker names the config after its digest ("<hex>.json" or "blobs/sha256/<hex>").
            var named = Substring(entry.config.split(separator: "/").last ?? "")
            if named.hasSuffix(".json") { named = named.dropLast(5) }
            if Digest.isHex64(named) && Digest.prefix + named != configDigest {
                throw .digestMismatch(blob: "\(origin): \(entry.config)", expected: Digest.prefix + named, found: configDigest)
            }
            let config = try OCIJSON.decode(OCIImageConfigFile.self, configBytes, what: entry.config, archive: origin)
            let diffIDs = try Self.diffIDs(config, layerCount: entry.layers.count, what: entry.config, origin: origin)
            var layers: [StagedLayer] = []
            for (position, name) in entry.layers.enumerated() {
                let file = try member(name, in: layout, origin: origin)
                let layer = try await stageLayer(file, key: file, in: work, cache: &extracted)
                guard layer.diffID == diffIDs[position] else {
                    throw .digestMismatch(blob: "\(origin): layer \(name)", expected: diffIDs[position], found: layer.diffID)
                }
                layers.append(layer)
            }
            let names = try (entry.repoTags ?? []).map { tag throws(LibpodError) in
                try ImageName.storageName(tag, defaultDomain: "docker.io")
            }
            staged.append(
                StagedImage(
                    configBytes: configBytes, manifestBytes: try Self.manifest(config: configBytes, layers: layers),
                    names: names, layers: layers, created: config.created ?? RFC3339.now()))
        }
        return staged
    }

    private func stageOCILayout(_ layout: String, origin: String, work: WorkDirectory) async throws(LibpodError) -> [StagedImage] {
        let index = try OCIJSON.decode(
            OCIIndex.self, try readJSONFile(try member("index.json", in: layout, origin: origin), origin: origin),
            what: "index.json", archive: origin)
        var extracted: [String: StagedLayer] = [:]
        var staged: [StagedImage] = []
        for top in index.manifests {
            var descriptor = top
            var nested = 0
            while descriptor.mediaType == MediaType.ociIndex || descriptor.mediaType == MediaType.dockerManifestList {
                nested += 1
                guard nested < 4 else { throw .invalidArchive(path: origin, reason: "image indexes nest too deeply") }
                let inner = try OCIJSON.decode(
                    OCIIndex.self, try readBlob(descriptor, in: layout, origin: origin), what: descriptor.digest, archive: origin)
                guard let chosen = Self.choosePlatform(inner.manifests) else {
                    throw .invalidArchive(path: origin, reason: "the image index \(descriptor.digest) lists no manifest")
                }
                descriptor = chosen
            }
            let manifestBytes = try readBlob(descriptor, in: layout, origin: origin)
            let manifest = try OCIJSON.decode(OCIManifest.self, manifestBytes, what: descriptor.digest, archive: origin)
            let configBytes = try readBlob(manifest.config, in: layout, origin: origin)
            let config = try OCIJSON.decode(OCIImageConfigFile.self, configBytes, what: manifest.config.digest, archive: origin)
            let diffIDs = try Self.diffIDs(config, layerCount: manifest.layers.count, what: manifest.config.digest, origin: origin)
            var layers: [StagedLayer] = []
            for (position, layerDescriptor) in manifest.layers.enumerated() {
                let file = try blobPath(layerDescriptor, in: layout, origin: origin)
                if extracted[layerDescriptor.digest] == nil {
                    let (digest, size) = try await Self.blocking { () throws(LibpodError) in try Digest.sha256(file: file) }
                    try Self.verify(layerDescriptor, digest: digest, size: size, origin: origin)
                }
                let layer = try await stageLayer(file, key: layerDescriptor.digest, in: work, cache: &extracted, blobDigest: layerDescriptor.digest)
                guard layer.diffID == diffIDs[position] else {
                    throw .digestMismatch(
                        blob: "\(origin): layer \(layerDescriptor.digest) (uncompressed)", expected: diffIDs[position], found: layer.diffID)
                }
                layers.append(layer)
            }
            var names: [String] = []
            if let reference = top.annotations?[Self.refNameAnnotation] ?? descriptor.annotations?[Self.refNameAnnotation] {
                do {
                    names = [try ImageName.storageName(reference, defaultDomain: "localhost")]
                } catch {
                    throw .invalidArchive(path: origin, reason: "the image name \"\(reference)\" in index.json is not valid: \(error)")
                }
            }
            staged.append(
                StagedImage(
                    configBytes: configBytes, manifestBytes: manifestBytes, names: names, layers: layers,
                    created: config.created ?? RFC3339.now()))
        }
        return staged
    }

    // MARK: - Helpers

    static func diffIDs(_ config: OCIImageConfigFile, layerCount: Int, what: String, origin: String) throws(LibpodError) -> [String] {
        guard let diffIDs = config.rootfs?.diffIDs else {
            throw .invalidArchive(path: origin, reason: "the config \(what) has no rootfs.diff_ids")
        }
        guard diffIDs.count == layerCount else {
            throw .invalidArchive(
                path: origin, reason: "the config \(what) lists \(diffIDs.count) diff_ids but the manifest \(layerCount) layers")
        }
        if let bad = diffIDs.first(where: { !Digest.isValidSHA256($0) }) {
            throw .invalidArchive(path: origin, reason: "the config \(what) has the diff_id \"\(bad)\", not a sha256 digest")
        }
        return diffIDs
    }

    /// The manifest of an image that came without one: the config and the uncompressed
    /// layers, as podman describes an imported image.
    private static func manifest(config: [UInt8], layers: [StagedLayer]) throws(LibpodError) -> [UInt8] {
        try OCIJSON.encode(
            OCIManifest(
                schemaVersion: 2, mediaType: MediaType.ociManifest,
                config: OCIDescriptor(mediaType: MediaType.ociConfig, digest: Digest.sha256(config), size: Int64(config.count)),
                layers: layers.map { OCIDescriptor(mediaType: MediaType.ociLayerTar, digest: $0.diffID, size: $0.tarSize) }))
    }

    private static func containerSection(_ overrides: ImageConfigOverrides?) -> OCIImageConfigFile.ContainerSection {
        var env = [defaultPath]
        for entry in overrides?.env ?? [] {
            let key = entry.prefix { $0 != "=" }
            env.removeAll { $0.prefix { $0 != "=" } == key }
            env.append(entry)
        }
        let ports = overrides?.exposedPorts.map { ports in
            Dictionary(ports.map { ($0.contains("/") ? $0 : $0 + "/tcp", EmptyObject()) }) { first, _ in first }
        }
        return .init(
            user: overrides?.user, exposedPorts: ports, env: env, entrypoint: overrides?.entrypoint, cmd: overrides?.cmd,
            workingDir: overrides?.workingDir, labels: overrides?.labels, stopSignal: overrides?.stopSignal,
            volumes: overrides?.volumes.map { Dictionary($0.map { ($0, EmptyObject()) }) { first, _ in first } })
    }

    static func choosePlatform(_ manifests: [OCIDescriptor]) -> OCIDescriptor? {
        manifests.first { $0.platform?.os == "linux" && $0.platform?.architecture == architecture } ?? manifests.first
    }

    private static func verify(_ descriptor: OCIDescriptor, digest: String, size: Int64, origin: String) throws(LibpodError) {
        guard digest == descriptor.digest else {
            throw .digestMismatch(blob: "\(origin): blob \(descriptor.digest)", expected: descriptor.digest, found: digest)
        }
        if let expected = descriptor.size, expected != size {
            throw .invalidArchive(path: origin, reason: "the blob \(descriptor.digest) has \(size) bytes, but its descriptor says \(expected)")
        }
    }

    /// The file of a blob in an OCI layout; only sha256 is accepted, which also makes the
    /// digest safe to use as a path.
    private func blobPath(_ descriptor: OCIDescriptor, in layout: String, origin: String) throws(LibpodError) -> String {
        guard Digest.isValidSHA256(descriptor.digest) else {
            throw .invalidArchive(path: origin, reason: "the digest \"\(descriptor.digest)\" is not sha256 with 64 hex digits")
        }
        return try member("blobs/sha256/" + Digest.hexPart(descriptor.digest), in: layout, origin: origin)
    }

    private func readBlob(_ descriptor: OCIDescriptor, in layout: String, origin: String) throws(LibpodError) -> [UInt8] {
        let bytes = try readJSONFile(try blobPath(descriptor, in: layout, origin: origin), origin: origin)
        try Self.verify(descriptor, digest: Digest.sha256(bytes), size: Int64(bytes.count), origin: origin)
        return bytes
    }

    private func readJSONFile(_ path: String, origin: String) throws(LibpodError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileSystem.failure("examining", path) }
        guard Int64(info.st_size) <= Self.maximumJSONSize else {
            throw .invalidArchive(path: origin, reason: "\(path) has \(info.st_size) bytes; JSON documents over \(Self.maximumJSONSize) are refused")
        }
        guard let bytes = try FileSystem.read(path) else { throw .invalidArchive(path: origin, reason: "\(path) is missing") }
        return bytes
    }

    /// A file named inside an archive or layout, resolved; it must exist and stay inside
    /// even after its symlinks are followed (docker-archives link shared layers).
    private func member(_ name: String, in layout: String, origin: String) throws(LibpodError) -> String {
        guard let components = LayerArchive.insideComponents(name), !components.isEmpty else {
            throw .invalidArchive(path: origin, reason: "\"\(name)\" points outside the archive")
        }
        guard let base = LayerArchive.realPath(layout) else { throw FileSystem.failure("resolving", layout) }
        guard let resolved = LayerArchive.realPath(layout + "/" + components.joined(separator: "/")) else {
            throw .invalidArchive(path: origin, reason: "\"\(name)\" is missing")
        }
        guard resolved.hasPrefix(base + "/") else {
            throw .invalidArchive(path: origin, reason: "\"\(name)\" is a symlink that leads outside the archive")
        }
        return resolved
    }

    private func requireRegularFile(_ path: String, what: String) throws(LibpodError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .invalidArgument("cannot read \(what) \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .invalidArgument("\(what) \(path) is not a regular file") }
    }

    // MARK: - Work directories

    /// A directory in `tmp/` and the lock that says its owner is alive: a directory whose
    /// lock anyone can take was left by a process that died.
    struct WorkDirectory: Sendable {
        var path: String
        var lock: FileLock
    }

    /// Runs `body` with a new work directory, which goes afterwards whatever happens.
    func withWorkDirectory<T: Sendable>(_ body: (WorkDirectory) async throws(LibpodError) -> T) async throws(LibpodError) -> T {
        let work = try makeWorkDirectory()
        do throws(LibpodError) {
            let result = try await body(work)
            await discard(work)
            return result
        } catch {
            await discard(work)
            throw error
        }
    }

    func makeWorkDirectory() throws(LibpodError) -> WorkDirectory {
        for _ in 0..<8 {
            let name = String(UInt64.random(in: 1 ... .max), radix: 16)
            let path = workDirectory + "/" + name
            guard let lock = try FileLock.tryAcquire(path: path + ".lock") else { continue }
            guard mkdir(path, 0o700) == 0 else {
                let code = errno
                lock.releaseAndRemove()
                if code == EEXIST { continue }
                throw FileSystem.failure("creating directory", path, code)
            }
            return WorkDirectory(path: path, lock: lock)
        }
        throw FileSystem.failure("making a work directory in", workDirectory)
    }

    func discard(_ work: WorkDirectory) async {
        let path = work.path
        _ = await ProcessSpawn.onThread { try? FileSystem.removeTree(path) }
        work.lock.releaseAndRemove()
    }

    /// Removes work directories whose lock is free: their process is gone.
    private func removeAbandonedWork() {
        for name in FileSystem.list(workDirectory) where !name.hasSuffix(".lock") {
            let path = workDirectory + "/" + name
            guard let lock = try? FileLock.tryAcquire(path: path + ".lock") else { continue }
            try? FileSystem.removeTree(path)
            lock.releaseAndRemove()
        }
    }

    /// Runs blocking file work (extraction, hashing) on a thread of its own.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(LibpodError) -> T) async throws(LibpodError) -> T {
        let result: Result<T, LibpodError> = await ProcessSpawn.onThread {
            do throws(LibpodError) {
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The OCI name of this machine's architecture.
    static let architecture: String = {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: info.machine) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch machine {
        case "x86_64": return "amd64"
        case "aarch64": return "arm64"
        case "i386", "i686": return "386"
        case "armv7l", "armv6l": return "arm"
        default: return machine
        }
    }()
}
