import CArchive
import Glibc

/// A file tree as a tar: for `cp` (the daemon packs a path of a container, the CLI a
/// local path, the same way, so both ends read what the other wrote), for export, and
/// an overlay upper directory as an image layer (commit).
public enum FileTreeArchive {
    /// Why packing failed, saying which path.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Writes `source` (a file, a symbolic link, or a directory with everything below it)
    /// to a new tar at `output`, its entries named from `name` down (`name`,
    /// `name/child`, ...). Links are stored as links, never followed; owners are numeric.
    public static func pack(_ source: String, as name: String, to output: String) throws(Failure) {
        let source = source.count > 1 && source.hasSuffix("/") ? String(source.dropLast()) : source
        try copyTree(source, to: output) { tar, entry, path throws(Failure) in
            archive_entry_set_pathname(entry, name + path.dropFirst(source.count))
            guard archive_write_header(tar, entry) == ARCHIVE_OK else {
                throw Failure("archiving \(path): \(message(tar))")
            }
            return true
        }
    }

    /// Walks `source` (links not followed) into a new pax tar at `output`: `entry` is each
    /// file's header as read (owners by number only); `write` writes what it wants of it
    /// and says whether the file's data follows.
    private static func copyTree(
        _ source: String, to output: String,
        _ write: (_ tar: OpaquePointer, _ entry: OpaquePointer, _ path: String) throws(Failure) -> Bool
    ) throws(Failure) {
        guard let disk = archive_read_disk_new() else { throw Failure("libarchive cannot allocate a disk reader") }
        defer { archive_read_free(disk) }
        archive_read_disk_set_symlink_physical(disk)
        guard archive_read_disk_open(disk, source) == ARCHIVE_OK else {
            throw Failure("cannot read \(source): \(message(disk))")
        }
        guard let tar = archive_write_new() else { throw Failure("libarchive cannot allocate a tar writer") }
        defer { archive_write_free(tar) }
        archive_write_set_format_pax_restricted(tar)
        guard archive_write_open_filename(tar, output) == ARCHIVE_OK else {
            throw Failure("cannot write \(output): \(message(tar))")
        }
        guard let entry = archive_entry_new() else { throw Failure("libarchive cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            archive_entry_clear(entry)
            let status = archive_read_next_header2(disk, entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
                throw Failure("reading \(source): \(message(disk))")
            }
            archive_read_disk_descend(disk)
            let path = String(cString: archive_entry_pathname(entry))
            // Stored by number: the two ends need not share user names.
            archive_entry_set_uname(entry, nil)
            archive_entry_set_gname(entry, nil)
            guard try write(tar, entry, path) else { continue }
            guard archive_entry_filetype(entry) & S_IFMT == S_IFREG, archive_entry_size(entry) > 0 else { continue }
            while true {
                let count = buffer.withUnsafeMutableBytes { archive_read_data(disk, $0.baseAddress, $0.count) }
                if count == 0 { break }
                guard count > 0 else { throw Failure("reading \(path): \(message(disk))") }
                let written = buffer.withUnsafeBytes { archive_write_data(tar, $0.baseAddress, count) }
                guard written == count else { throw Failure("writing \(output): \(message(tar))") }
            }
        }
        guard archive_write_close(tar) == ARCHIVE_OK else { throw Failure("finishing \(output): \(message(tar))") }
    }

    /// The name `cp` gives what it copies from `path`: its last component.
    public static func entryName(of path: String) -> String? {
        let last = path.split(separator: "/").last.map(String.init)
        guard let last, last != ".", last != ".." else { return nil }
        return last
    }

    static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}

extension FileTreeArchive {
    /// Writes an overlay upper directory as an image layer tar at `output`: entries named
    /// relative to the directory (`etc/passwd`), overlay's whiteouts (0/0 character
    /// devices) as `.wh.NAME` files, its opaque directories with a `.wh..wh..opq` entry,
    /// and overlay's own `trusted.overlay.*` attributes left out.
    public static func packLayer(_ directory: String, to output: String) throws(Failure) {
        try copyTree(directory, to: output) { tar, entry, path throws(Failure) in
            let relative = String(path.dropFirst(directory.count).drop { $0 == "/" })
            guard !relative.isEmpty else { return false }
            let (opaque, kept) = overlayAttributes(entry)
            archive_entry_xattr_clear(entry)
            for (name, value) in kept {
                value.withUnsafeBytes { archive_entry_xattr_add_entry(entry, name, $0.baseAddress, $0.count) }
            }
            let type = archive_entry_filetype(entry) & S_IFMT
            if type == S_IFCHR && archive_entry_rdev(entry) == 0 {
                let slash = relative.lastIndex(of: "/")
                let parent = slash.map { String(relative[...$0]) } ?? ""
                let name = slash.map { String(relative[relative.index(after: $0)...]) } ?? relative
                try writeMarker(parent + ".wh." + name, like: entry, into: tar)
                return false
            }
            archive_entry_set_pathname(entry, relative)
            guard archive_write_header(tar, entry) == ARCHIVE_OK else { throw Failure("archiving \(path): \(message(tar))") }
            if type == S_IFDIR && opaque { try writeMarker(relative + "/.wh..wh..opq", like: entry, into: tar) }
            return true
        }
    }

    /// An empty file named `name` with `template`'s time: a whiteout or opaque marker.
    private static func writeMarker(_ name: String, like template: OpaquePointer, into tar: OpaquePointer) throws(Failure) {
        guard let marker = archive_entry_new() else { throw Failure("libarchive cannot allocate an entry") }
        defer { archive_entry_free(marker) }
        archive_entry_set_pathname(marker, name)
        archive_entry_set_filetype(marker, UInt32(Glibc.S_IFREG))
        archive_entry_set_perm(marker, 0o644)
        archive_entry_set_size(marker, 0)
        archive_entry_set_mtime(marker, archive_entry_mtime(template), archive_entry_mtime_nsec(template))
        guard archive_write_header(tar, marker) == ARCHIVE_OK else { throw Failure("archiving \(name): \(message(tar))") }
    }

    /// Whether overlay marked the entry opaque, and its attributes that are not overlay's.
    private static func overlayAttributes(_ entry: OpaquePointer) -> (opaque: Bool, kept: [(String, [UInt8])]) {
        var opaque = false
        var kept: [(String, [UInt8])] = []
        archive_entry_xattr_reset(entry)
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
            guard let name else { continue }
            let key = String(cString: name)
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            if key == "trusted.overlay.opaque" || key == "user.overlay.opaque" {
                opaque = bytes.first == UInt8(ascii: "y")
            } else if !key.hasPrefix("trusted.overlay.") && !key.hasPrefix("user.overlay.") {
                kept.append((key, bytes))
            }
        }
        return (opaque, kept)
    }
}
