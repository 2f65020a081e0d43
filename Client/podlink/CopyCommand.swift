import ArgumentParser
import CArchive
import FileTreeArchive
import Foundation
import Glibc
import PodmanClient

struct Cp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy files and directories between a container and this machine.",
        discussion: """
            One side is CONTAINER:PATH (an absolute path in the container, which may be running \
            or stopped), the other a local path. A directory destination receives the copy; \
            anything else is replaced by it (podlink cp ./site web:/www, podlink cp web:/etc/hosts .). \
            Copies reach the container's own file system, not what is mounted into it. \
            Write ./a:b for a local file whose name has a colon.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "What to copy: a local path, or CONTAINER:PATH.") var source: String
    @Argument(help: "Where to: CONTAINER:PATH, or a local path.") var destination: String

    func run() async throws {
        switch (ContainerPath(source), ContainerPath(destination)) {
        case (nil, let into?):
            guard let name = FileTreeArchive.entryName(of: Self.absolute(source)) else {
                throw ValidationError("\(source) names no file to copy")
            }
            var info = stat()
            guard lstat(source, &info) == 0 else { throw ValidationError("\(source): \(String(cString: strerror(errno)))") }
            let archive = try Self.temporaryFile()
            defer { unlink(archive) }
            try FileTreeArchive.pack(source, as: name, to: archive)
            try await global.withClient { try await $0.copyArchive(archive, into: into.container, at: into.path) }
        case (let from?, nil):
            let archive = try Self.temporaryFile()
            defer { unlink(archive) }
            try await global.withClient { try await $0.copyArchive(from: from.container, path: from.path, to: archive) }
            try LocalExtraction.place(archive, at: destination)
        default:
            throw ValidationError("one of the two must be CONTAINER:PATH and the other a local path")
        }
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func temporaryFile() throws -> String {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(directory)/podlink-cp-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw ValidationError("cannot create a file in \(directory): \(String(cString: strerror(errno)))") }
        close(descriptor)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// `CONTAINER:PATH`; a local path has no colon before its first slash.
struct ContainerPath {
    var container: String
    var path: String

    init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let container = text[..<colon]
        guard !container.isEmpty, !container.contains("/") else { return nil }
        self.container = String(container)
        self.path = String(text[text.index(after: colon)...])
    }
}

/// A tar from the daemon put on this machine as `cp` does. Every entry is given an
/// absolute path below a staging directory after a `..` check, and libarchive refuses
/// entries that pass through a symbolic link: whatever the archive holds lands there.
enum LocalExtraction {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func place(_ archive: String, at destination: String) throws {
        var info = stat()
        if stat(destination, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR {
            try extract(archive, into: realPath(destination))
            return
        }
        let parent = realPath((Cp.absolute(destination) as NSString).deletingLastPathComponent)
        var template = Array("\(parent)/.podlink-cp-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw Failure(description: "cannot create a directory in \(parent): \(String(cString: strerror(errno)))")
        }
        let staging = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try extract(archive, into: staging)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
        guard entries.count == 1, let top = entries.first else {
            throw Failure(description: "the daemon's archive has \(entries.count) top-level entries, expected one")
        }
        guard rename(staging + "/" + top, Cp.absolute(destination)) == 0 else {
            throw Failure(description: "cannot put the copy at \(destination): \(String(cString: strerror(errno)))")
        }
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = Glibc.realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func extract(_ archive: String, into directory: String) throws {
        guard let tar = archive_read_new(), let disk = archive_write_disk_new() else { throw Failure(description: "libarchive cannot allocate") }
        defer {
            archive_read_free(tar)
            archive_write_free(disk)
        }
        archive_read_support_format_tar(tar)
        archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME)
        guard archive_read_open_filename(tar, archive, 1 << 16) == ARCHIVE_OK else { throw failure(tar, "reading the archive") }
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(tar, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw failure(tar, "reading the archive") }
            let name = String(cString: archive_entry_pathname(entry))
            let components = name.split(separator: "/").filter { $0 != "." }
            guard !components.isEmpty, !components.contains("..") else {
                throw Failure(description: "the archive's entry \"\(name)\" points outside the destination")
            }
            archive_entry_set_pathname(entry, directory + "/" + components.joined(separator: "/"))
            if let link = archive_entry_hardlink(entry) {
                let linkComponents = String(cString: link).split(separator: "/").filter { $0 != "." }
                guard !linkComponents.isEmpty, !linkComponents.contains("..") else {
                    throw Failure(description: "the archive's hard link \"\(name)\" points outside the destination")
                }
                archive_entry_set_hardlink(entry, directory + "/" + linkComponents.joined(separator: "/"))
            }
            guard archive_write_header(disk, entry) == ARCHIVE_OK else { throw failure(disk, "writing \(name)") }
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            while true {
                let read = archive_read_data_block(tar, &block, &size, &offset)
                if read == ARCHIVE_EOF { break }
                guard read == ARCHIVE_OK else { throw failure(tar, "reading \(name)") }
                guard archive_write_data_block(disk, block, size, offset) == ARCHIVE_OK else { throw failure(disk, "writing \(name)") }
            }
            guard archive_write_finish_entry(disk) == ARCHIVE_OK else { throw failure(disk, "writing \(name)") }
        }
        guard archive_write_close(disk) == ARCHIVE_OK else { throw failure(disk, "finishing the copy") }
    }

    static func failure(_ archive: OpaquePointer, _ doing: String) -> Failure {
        Failure(description: "\(doing): \(archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error")")
    }
}
