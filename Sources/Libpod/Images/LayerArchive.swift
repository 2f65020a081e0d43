import CArchive
import Crypto
import Glibc

/// What extracting a tar stream produced.
struct ExtractedLayer: Sendable {
    /// sha256 of the uncompressed tar stream: the layer's OCI diffID.
    var diffID: String
    /// Bytes of the regular files written.
    var size: Int64
    /// Bytes of the uncompressed tar stream.
    var tarSize: Int64
}

/// Tar extraction on libarchive, confined to one directory.
///
/// libarchive resolves relative entry paths against the process's working directory,
/// which every thread shares; so each entry is given an absolute path inside the target
/// (after our own `..` check), and libarchive's secure-symlink check then refuses any
/// entry whose path passes through a symlink, starting from the target's real path.
/// That is why `ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS` is not set: every path we hand
/// over is absolute by construction, and the absolute paths in the archive itself were
/// already made relative to the target, as docker and podman do.
enum LayerArchive {
    enum Mode {
        /// An image layer: owners (as root), permissions, times, xattrs, device nodes (as
        /// root), and OCI whiteouts turned into overlay's form (as root).
        case layer
        /// The outer tarball of a docker-archive or oci-archive: regular files,
        /// directories, symlinks and hard links, owned by us, nothing else.
        case files
        /// What `cp` brings into a container: regular files, directories, symlinks and
        /// hard links with their permissions and times, owned by the daemon's user.
        case copy
    }

    /// libarchive switches the process's working directory for paths this long (to
    /// shorten them); no entry may reach it.
    private static let maximumPathLength = Int(PATH_MAX) - 64

    /// Extracts `archivePath` (plain tar, or gzip, bzip2, xz or zstd compressed) into the
    /// existing directory `directory`. An entry that would land outside it, or that
    /// libarchive refuses, fails the whole extraction; the caller removes the directory.
    static func extract(_ archivePath: String, into directory: String, mode: Mode) throws(LibpodError) -> ExtractedLayer {
        guard let root = realPath(directory) else { throw FileSystem.failure("resolving", directory) }
        let stream = try DecompressedStream(path: archivePath)
        // The reader holds the stream unretained; it must live until the reader is freed.
        defer { withExtendedLifetime(stream) {} }
        guard let tar = archive_read_new() else { throw .helperFailed(program: "libarchive", cause: "cannot allocate a reader") }
        defer { archive_read_free(tar) }
        archive_read_support_format_tar(tar)
        let opened = archive_read_open(
            tar, Unmanaged.passUnretained(stream).toOpaque(), nil,
            { _, client, buffer in
                let stream = Unmanaged<DecompressedStream>.fromOpaque(client!).takeUnretainedValue()
                guard let chunk = stream.next() else { return -1 }
                buffer?.pointee = chunk.baseAddress
                return chunk.count
            }, nil)
        guard opened == ARCHIVE_OK else {
            throw .invalidArchive(path: archivePath, reason: stream.failure ?? errorString(tar))
        }

        guard let disk = archive_write_disk_new() else { throw .helperFailed(program: "libarchive", cause: "cannot allocate a disk writer") }
        defer { archive_write_free(disk) }
        let privileged = geteuid() == 0
        let rootless: UserNamespace? = UserNamespace.current.isInitial ? nil : .current
        var flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        if mode == .copy {
            flags |= ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME
        }
        if mode == .layer {
            flags |= ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR
            // Numeric owners from the tar: no user-name lookup is installed, so the
            // host's /etc/passwd never remaps a container's uids.
            if privileged { flags |= ARCHIVE_EXTRACT_OWNER }
        }
        archive_write_disk_set_options(disk, flags)

        var size: Int64 = 0
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(tar, &entry)
            if status == ARCHIVE_EOF { break }
            guard succeeded(status), let entry else {
                throw .invalidArchive(path: archivePath, reason: stream.failure ?? errorString(tar))
            }
            guard let rawName = archive_entry_pathname(entry) else {
                throw .invalidArchive(path: archivePath, reason: "an entry has a path that cannot be read")
            }
            let name = String(cString: rawName)
            guard let components = insideComponents(name) else {
                throw .invalidArchive(path: archivePath, reason: "the entry \"\(name)\" points outside the directory it is extracted to")
            }
            let type = archive_entry_filetype(entry) & S_IFMT
            switch mode {
            case .files, .copy:
                guard type == S_IFREG || type == S_IFDIR || type == S_IFLNK else { continue }
            case .layer:
                if let last = components.last, last.hasPrefix(".wh.") {
                    if last.hasPrefix(".wh..wh.") && last != ".wh..wh..opq" { continue }  // aufs bookkeeping
                    // Without root, overlay's forms cannot be made; the `.wh.` files stay
                    // as they are, and the vfs copy understands them.
                    if privileged {
                        try convertWhiteout(components, in: root, archive: archivePath)
                        continue
                    }
                }
                // Rootless, device nodes cannot be made (the kernel refuses mknod in a user
                // namespace); containers get theirs from the OCI runtime anyway.
                if (type == S_IFCHR || type == S_IFBLK) && (!privileged || rootless != nil) { continue }
                if let rootless { try Self.checkOwnerMapped(entry, name: name, in: rootless, archive: archivePath) }
                try dropOverlayAttributes(entry)
            }
            let target = components.isEmpty ? root : root + "/" + components.joined(separator: "/")
            guard target.utf8.count < maximumPathLength else {
                throw .invalidArchive(path: archivePath, reason: "the entry \"\(name.prefix(80))...\" has a path longer than \(maximumPathLength) bytes")
            }
            archive_entry_set_pathname(entry, target)
            if let rawLink = archive_entry_hardlink(entry) {
                let link = String(cString: rawLink)
                guard let linkComponents = insideComponents(link), !linkComponents.isEmpty else {
                    throw .invalidArchive(path: archivePath, reason: "the hard link \"\(name)\" points to \"\(link)\", outside the directory it is extracted to")
                }
                archive_entry_set_hardlink(entry, root + "/" + linkComponents.joined(separator: "/"))
            } else if type == S_IFREG {
                size += archive_entry_size(entry)
            }

            guard succeeded(archive_write_header(disk, entry)) else {
                throw .invalidArchive(path: archivePath, reason: "the entry \"\(name)\" was refused: \(errorString(disk))")
            }
            if archive_entry_size(entry) > 0 {
                try copyData(from: tar, to: disk, stream: stream, entry: name, archive: archivePath)
            }
            guard succeeded(archive_write_finish_entry(disk)) else {
                throw .invalidArchive(path: archivePath, reason: "the entry \"\(name)\" could not be completed: \(errorString(disk))")
            }
        }
        // Directory permissions and times are applied here, deepest first.
        guard succeeded(archive_write_close(disk)) else {
            throw .invalidArchive(path: archivePath, reason: "finishing the extraction: \(errorString(disk))")
        }
        // The digest covers the whole stream, including what follows the tar end marker.
        guard stream.drain() else {
            throw .invalidArchive(path: archivePath, reason: stream.failure ?? "reading past the end of the tar stream failed")
        }
        return ExtractedLayer(diffID: stream.digest(), size: size, tarSize: stream.count)
    }

    private static func copyData(
        from tar: OpaquePointer, to disk: OpaquePointer, stream: DecompressedStream, entry name: String, archive: String
    ) throws(LibpodError) {
        while true {
            var buffer: UnsafeRawPointer?
            var count = 0
            var offset: la_int64_t = 0
            let status = archive_read_data_block(tar, &buffer, &count, &offset)
            if status == ARCHIVE_EOF { return }
            guard succeeded(status) else {
                throw .invalidArchive(path: archive, reason: "reading the entry \"\(name)\": \(stream.failure ?? errorString(tar))")
            }
            guard archive_write_data_block(disk, buffer, count, offset) >= Int(ARCHIVE_WARN) else {
                throw .invalidArchive(path: archive, reason: "writing the entry \"\(name)\": \(errorString(disk))")
            }
        }
    }

    /// The path's components inside the extraction directory: a leading `/` and `.`
    /// components dropped, `..` resolved; nil when `..` would climb above the top.
    static func insideComponents(_ path: String) -> [String]? {
        var result: [String] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !result.isEmpty else { return nil }
                result.removeLast()
            default: result.append(String(part))
            }
        }
        return result
    }

    /// A rootless namespace maps the user and its subordinate ids only: a file owned by
    /// another id cannot be made with its owner, and is refused rather than given to root.
    static func checkOwnerMapped(_ entry: OpaquePointer, name: String, in namespace: UserNamespace, archive: String) throws(LibpodError) {
        let uid = UInt32(truncatingIfNeeded: archive_entry_uid(entry))
        let gid = UInt32(truncatingIfNeeded: archive_entry_gid(entry))
        guard !namespace.mapsUID(uid) || !namespace.mapsGID(gid) else { return }
        let user = SubordinateIDs.userName(namespace.hostUID) ?? String(namespace.hostUID)
        throw .unsupported(
            feature: "\(name) of \(archive), owned by \(uid):\(gid), in this rootless namespace, which maps \(namespace.mappedUIDCount) user id(s)",
            advice: "give \(user) subordinate ids in /etc/subuid and /etc/subgid (as root: usermod --add-subuids 100000-165535 "
                + "--add-subgids 100000-165535 \(user)), then stop podlinkd and its pause process (kill $(cat $XDG_RUNTIME_DIR/podlink/pause.pid)) "
                + "so that the next start maps them")
    }

    /// `.wh.NAME` becomes a 0/0 character device NAME, `.wh..wh..opq` the opaque xattr on
    /// its directory: what overlayfs reads as "deleted" and "hides the lower layers".
    private static func convertWhiteout(_ components: [String], in root: String, archive: String) throws(LibpodError) {
        let marker = components[components.count - 1]
        let parent = components.dropLast()
        let directory = try openDirectory(beneath: root, parent, archive: archive)
        defer { close(directory) }
        if marker == OverlayWhiteout.opaqueMarker {
            guard fsetxattr(directory, OverlayWhiteout.opaqueAttribute, "y", 1, 0) == 0 else {
                throw FileSystem.failure("marking opaque", root + "/" + parent.joined(separator: "/"))
            }
            return
        }
        let name = String(marker.dropFirst(OverlayWhiteout.prefix.count))
        guard !name.isEmpty, name != ".", name != ".." else {
            throw .invalidArchive(path: archive, reason: "the whiteout \"\(components.joined(separator: "/"))\" names no file")
        }
        if mknodat(directory, name, S_IFCHR, 0) == 0 { return }
        guard errno == EEXIST else { throw FileSystem.failure("creating the whiteout", name) }
        // The layer itself has the name too (an odd but legal tar): the whiteout wins, as
        // it would when applied after.
        if unlinkat(directory, name, 0) != 0 {
            try FileSystem.removeTree(root + "/" + (parent + [name]).joined(separator: "/"))
        }
        guard mknodat(directory, name, S_IFCHR, 0) == 0 else {
            throw FileSystem.failure("creating the whiteout", name)
        }
    }

    /// Opens (creating what is missing) the directory `components` below `root`, one
    /// component at a time without following symlinks: a whiteout must not be placed
    /// through a link the archive planted.
    private static func openDirectory(beneath root: String, _ components: ArraySlice<String>, archive: String)
        throws(LibpodError) -> Int32
    {
        var descriptor = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystem.failure("opening", root) }
        for component in components {
            if mkdirat(descriptor, component, 0o755) != 0 && errno != EEXIST {
                let code = errno
                close(descriptor)
                throw FileSystem.failure("creating directory", component, code)
            }
            let next = openat(descriptor, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(descriptor)
            guard next >= 0 else {
                if code == ELOOP || code == ENOTDIR {
                    throw .invalidArchive(
                        path: archive, reason: "a whiteout lies under \"\(components.joined(separator: "/"))\", which is a symlink or not a directory")
                }
                throw FileSystem.failure("opening", component, code)
            }
            descriptor = next
        }
        return descriptor
    }

    /// A layer must not carry overlay's own attributes: they would hide or redirect lower
    /// layers' files in ways the image's whiteouts never said.
    private static func dropOverlayAttributes(_ entry: OpaquePointer) throws(LibpodError) {
        guard archive_entry_xattr_reset(entry) > 0 else { return }
        var kept: [(String, [UInt8])] = []
        var dropped = false
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var length = 0
        while archive_entry_xattr_next(entry, &name, &value, &length) == ARCHIVE_OK {
            guard let name else { continue }
            let key = String(cString: name)
            if key.hasPrefix("trusted.overlay.") || key.hasPrefix("user.overlay.") {
                dropped = true
                continue
            }
            kept.append((key, value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []))
        }
        guard dropped else { return }
        archive_entry_xattr_clear(entry)
        for (key, bytes) in kept {
            bytes.withUnsafeBytes { archive_entry_xattr_add_entry(entry, key, $0.baseAddress, $0.count) }
        }
    }

    /// OK, or done with a warning (an owner or xattr that could not be set); RETRY and
    /// worse are failures.
    static func succeeded(_ status: Int32) -> Bool { status == ARCHIVE_OK || status == ARCHIVE_WARN }

    static func errorString(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// overlayfs's names for deletions.
enum OverlayWhiteout {
    static let prefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"
    /// trusted.* is root's on the host alone; a rootless runtime marks opaque directories
    /// with the user.* attribute and mounts overlay with `userxattr`, which reads it.
    static let opaqueAttribute = UserNamespace.current.isRootless ? "user.overlay.opaque" : "trusted.overlay.opaque"
}

/// The decompressed bytes of an archive file, hashed as they are handed on: the tar
/// reader pulls from here, so the digest covers exactly the stream it parsed (and what
/// follows its end marker, once drained).
final class DecompressedStream {
    private let raw: OpaquePointer
    private var hasher = SHA256()
    private(set) var count: Int64 = 0
    private(set) var failure: String?
    private(set) var finished = false

    init(path: String) throws(LibpodError) {
        guard let raw = archive_read_new() else { throw .helperFailed(program: "libarchive", cause: "cannot allocate a reader") }
        // The layer compressions OCI and docker use; no uudecode, rpm or external
        // programs, which would take a plain tar whose first name happens to look like
        // their header.
        archive_read_support_filter_gzip(raw)
        archive_read_support_filter_bzip2(raw)
        archive_read_support_filter_xz(raw)
        archive_read_support_filter_zstd(raw)
        archive_read_support_format_raw(raw)
        var entry: OpaquePointer?
        guard archive_read_open_filename(raw, path, 1 << 16) == ARCHIVE_OK else {
            let message = LayerArchive.errorString(raw)
            archive_read_free(raw)
            throw .invalidArchive(path: path, reason: message)
        }
        let status = archive_read_next_header(raw, &entry)
        if status == ARCHIVE_EOF {
            finished = true
        } else if !LayerArchive.succeeded(status) {
            let message = LayerArchive.errorString(raw)
            archive_read_free(raw)
            throw .invalidArchive(path: path, reason: message)
        }
        self.raw = raw
    }

    deinit { archive_read_free(raw) }

    /// The next chunk, empty at the end; nil on a failure (said in `failure`).
    func next() -> UnsafeRawBufferPointer? {
        if finished { return UnsafeRawBufferPointer(start: nil, count: 0) }
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        let status = archive_read_data_block(raw, &buffer, &size, &offset)
        if status == ARCHIVE_EOF {
            finished = true
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        guard LayerArchive.succeeded(status) else {
            failure = "decompressing: " + LayerArchive.errorString(raw)
            return nil
        }
        let chunk = UnsafeRawBufferPointer(start: buffer, count: size)
        hasher.update(bufferPointer: chunk)
        count += Int64(size)
        return chunk
    }

    /// Reads to the end; false on a failure.
    func drain() -> Bool {
        while let chunk = next() {
            if chunk.isEmpty && finished { return true }
        }
        return false
    }

    func digest() -> String { Digest.prefix + Digest.hex(hasher.finalize()) }
}
