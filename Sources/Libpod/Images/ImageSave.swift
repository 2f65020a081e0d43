import CArchive
import Foundation
import Glibc

/// The forms podman save writes.
public enum ImageArchiveFormat: String, Sendable, CaseIterable {
    /// docker save's tarball: manifest.json, `<config hex>.json`, `<diffID hex>.tar`
    /// (uncompressed layers), `repositories`.
    case dockerArchive = "docker-archive"
    /// An OCI image layout in a tarball.
    case ociArchive = "oci-archive"
    /// An OCI image layout directory.
    case ociDirectory = "oci-dir"
}

extension ImageStore {
    /// podman save of one image under `names` (its own first name when empty) into
    /// `path`, a new file (or, for oci-dir, a new directory). Layers are written from the
    /// stored tars: uncompressed into a docker-archive, as stored into an OCI layout, so
    /// each one matches the config's diff_ids and the manifest's digests.
    public func save(_ reference: String, names: [String] = [], format: ImageArchiveFormat, to path: String) async throws(LibpodError) {
        let source = try distributable(reference)
        let tags = try (names.isEmpty ? Array(source.image.names.prefix(1)) : names).map { name throws(LibpodError) in
            try ImageName.storageName(name, defaultDomain: "localhost")
        }
        switch format {
        case .dockerArchive:
            try await Self.blocking { () throws(LibpodError) in try Self.writeDockerArchive(source, tags: tags, to: path) }
        case .ociArchive:
            try await Self.blocking { () throws(LibpodError) in
                let writer = try ArchiveWriter(path: path)
                try Self.writeOCILayout(source, tags: tags) { name, content throws(LibpodError) in try writer.add(name, content.archiveContent) }
                try writer.finish()
            }
        case .ociDirectory:
            try await Self.blocking { () throws(LibpodError) in
                guard mkdir(path, 0o755) == 0 else { throw FileSystem.failure("creating directory", path) }
                try Self.writeOCILayout(source, tags: tags) { name, content throws(LibpodError) in
                    let target = path + "/" + name
                    switch content {
                    case .directory: try FileSystem.ensureDirectory(target, mode: 0o755)
                    case .bytes(let bytes): try FileSystem.writeAtomically(target, bytes)
                    case .file(let file, _): try FileSystem.linkOrCopy(file, to: target)
                    }
                }
            }
        }
    }

    private static func writeDockerArchive(_ source: Distributable, tags: [String], to path: String) throws(LibpodError) {
        let writer = try ArchiveWriter(path: path)
        let configName = Digest.hexPart(Digest.sha256(source.configBytes)) + ".json"
        var layerNames: [String] = []
        for layer in source.layers {
            let name = Digest.hexPart(layer.diffID) + ".tar"
            if !layerNames.contains(name) {
                try writer.add(name, .file(layer.path, decompressed: true, expectedDigest: layer.diffID))
            }
            layerNames.append(name)
        }
        try writer.add(configName, .bytes(source.configBytes))
        // docker's tags drop docker.io's and localhost's prefixes; podman reads both forms.
        let entry = DockerArchiveEntry(config: configName, repoTags: tags, layers: layerNames)
        try writer.add("manifest.json", .bytes(try OCIJSON.encode([entry])))
        var repositories: [String: [String: String]] = [:]
        for tag in tags {
            let parsed = ImageName.parse(tag)
            repositories[parsed.repository, default: [:]][parsed.tag ?? "latest"] = Digest.hexPart(source.layers.last?.diffID ?? "")
        }
        try writer.add("repositories", .bytes(try OCIJSON.encode(repositories)))
        try writer.finish()
    }

    enum LayoutContent {
        case directory
        case bytes([UInt8])
        case file(String, decompressed: Bool)
    }

    private static func writeOCILayout(_ source: Distributable, tags: [String], add: (String, LayoutContent) throws(LibpodError) -> Void) throws(LibpodError) {
        let stored = source.originalManifest?.mediaType == MediaType.ociManifest
        let manifest = try source.manifest(stored ? .keep : .oci)
        try add("blobs", .directory)
        try add("blobs/sha256", .directory)
        var written = Set<String>()
        for layer in source.layers where written.insert(layer.digest).inserted {
            try add("blobs/sha256/" + Digest.hexPart(layer.digest), .file(layer.path, decompressed: false))
        }
        try add("blobs/sha256/" + Digest.hexPart(Digest.sha256(source.configBytes)), .bytes(source.configBytes))
        let manifestDigest = Digest.sha256(manifest.bytes)
        try add("blobs/sha256/" + Digest.hexPart(manifestDigest), .bytes(manifest.bytes))
        try add("oci-layout", .bytes(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)))
        let descriptors = (tags.isEmpty ? [nil] : tags.map(Optional.some)).map { tag in
            OCIDescriptor(
                mediaType: MediaType.ociManifest, digest: manifestDigest, size: Int64(manifest.bytes.count),
                annotations: tag.map { [refNameAnnotation: $0] })
        }
        try add("index.json", .bytes(try OCIJSON.encode(OCIIndex(schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: descriptors))))
    }
}

extension ImageStore.LayoutContent {
    fileprivate var archiveContent: ArchiveWriter.Content {
        switch self {
        case .directory: return .directory
        case .bytes(let bytes): return .bytes(bytes)
        case .file(let path, let decompressed): return .file(path, decompressed: decompressed, expectedDigest: nil)
        }
    }
}


/// A tar written entry by entry (files streamed, layers decompressed on the way), owned
/// by root, for the archives save writes.
final class ArchiveWriter {
    enum Content {
        case directory
        case bytes([UInt8])
        /// A file's bytes; decompressed when asked, checked against `expectedDigest`
        /// (sha256 of what is written) when given.
        case file(String, decompressed: Bool, expectedDigest: String?)
    }

    private let archive: OpaquePointer
    private let path: String
    private let modified = time(nil)

    init(path: String) throws(LibpodError) {
        guard let archive = archive_write_new() else { throw .helperFailed(program: "libarchive", cause: "cannot allocate a tar writer") }
        archive_write_set_format_pax_restricted(archive)
        guard archive_write_open_filename(archive, path) == ARCHIVE_OK else {
            let message = LayerArchive.errorString(archive)
            archive_write_free(archive)
            throw .helperFailed(program: "libarchive", cause: "cannot write \(path): \(message)")
        }
        self.archive = archive
        self.path = path
    }

    deinit { archive_write_free(archive) }

    func add(_ name: String, _ content: Content) throws(LibpodError) {
        guard let entry = archive_entry_new() else { throw .helperFailed(program: "libarchive", cause: "cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_mtime(entry, modified, 0)
        switch content {
        case .directory:
            archive_entry_set_filetype(entry, UInt32(Glibc.S_IFDIR))
            archive_entry_set_perm(entry, 0o755)
            try header(entry, name)
        case .bytes(let bytes):
            archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
            archive_entry_set_perm(entry, 0o644)
            archive_entry_set_size(entry, la_int64_t(bytes.count))
            try header(entry, name)
            try data(bytes.withUnsafeBytes { $0 }, name)
        case .file(let file, let decompressed, let expectedDigest):
            archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
            archive_entry_set_perm(entry, 0o644)
            if decompressed {
                // The size goes in the header first: one pass to count (and check), one to write.
                let counting = try DecompressedStream(path: file)
                guard counting.drain() else { throw .invalidArchive(path: file, reason: counting.failure ?? "cannot be read") }
                if let expectedDigest, counting.digest() != expectedDigest {
                    throw .digestMismatch(blob: "the stored layer \(file)", expected: expectedDigest, found: counting.digest())
                }
                archive_entry_set_size(entry, la_int64_t(counting.count))
                try header(entry, name)
                let stream = try DecompressedStream(path: file)
                while let chunk = stream.next() {
                    if chunk.isEmpty && stream.finished { break }
                    try data(chunk, name)
                }
                guard stream.finished else { throw .invalidArchive(path: file, reason: stream.failure ?? "cannot be read") }
            } else {
                archive_entry_set_size(entry, la_int64_t(try FileSystem.size(of: file)))
                try header(entry, name)
                let descriptor = open(file, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw FileSystem.failure("opening", file) }
                defer { close(descriptor) }
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    guard count >= 0 else { throw FileSystem.failure("reading", file) }
                    if count == 0 { break }
                    try buffer.withUnsafeBytes { bytes in Result { () throws(LibpodError) in try data(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), name) } }.get()
                }
            }
        }
    }

    func finish() throws(LibpodError) {
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw .helperFailed(program: "libarchive", cause: "finishing \(path): \(LayerArchive.errorString(archive))")
        }
    }

    private func header(_ entry: OpaquePointer, _ name: String) throws(LibpodError) {
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw .helperFailed(program: "libarchive", cause: "writing \(name) into \(path): \(LayerArchive.errorString(archive))")
        }
    }

    private func data(_ bytes: UnsafeRawBufferPointer, _ name: String) throws(LibpodError) {
        guard !bytes.isEmpty else { return }
        guard archive_write_data(archive, bytes.baseAddress, bytes.count) == bytes.count else {
            throw .helperFailed(program: "libarchive", cause: "writing \(name) into \(path): \(LayerArchive.errorString(archive))")
        }
    }
}
