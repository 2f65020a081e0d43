import FileTreeArchive
import Foundation
import Glibc

/// `cp` into and out of a container's root file system, as tars that travel through the
/// transfer area (SendFile in, ReceiveFile out). The container may be running or not:
/// its root file system is mounted for the copy (one more user of the mount it has).
/// Copies reach the container's own file system, not what is bind-mounted into it.
extension Runtime {
    /// Extracts `archive` (a file a client sent, in the transfer area; deleted afterwards)
    /// at `destination` in the container, as `cp` does: into it when it is a directory,
    /// otherwise as it, the archive's one top entry taking its name.
    public func copyIntoContainer(_ idOrName: String, archive: String, destination: String) async throws(LibpodError) {
        guard transfers.holds(archive) else {
            throw .invalidArgument("\(archive) is not a file sent to the daemon; send the archive with SendFile first and pass the path it answers")
        }
        defer { unlink(archive) }
        guard destination.hasPrefix("/") else {
            throw .invalidArgument("the destination \"\(destination)\" in the container must be an absolute path")
        }
        try await withMountedRoot(idOrName) { root throws(LibpodError) in
            let target = try Self.resolve(destination, in: root)
            var info = stat()
            if stat(target, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR {
                _ = try LayerArchive.extract(archive, into: target, mode: .copy)
                return
            }
            let parent = (target as NSString).deletingLastPathComponent
            guard stat(parent, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw .invalidArgument("\((destination as NSString).deletingLastPathComponent) is not a directory in the container; create it first or copy into an existing one")
            }
            // Extracted beside the target first, then renamed onto it: a failed copy
            // leaves the container's files as they were.
            var template = Array("\(parent)/.podlink-cp-XXXXXX".utf8CString)
            guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
                throw FileSystem.failure("creating a directory in", parent)
            }
            let staging = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            defer { try? FileSystem.removeTree(staging) }
            _ = try LayerArchive.extract(archive, into: staging, mode: .copy)
            let entries = FileSystem.list(staging)
            guard entries.count == 1, let top = entries.first else {
                throw .invalidArgument("the archive has \(entries.count) top-level entries; copying onto \(destination) needs exactly one (or copy into a directory)")
            }
            let source = staging + "/" + top
            if lstat(target, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                throw .invalidArgument("\(destination) is a directory in the container")
            }
            guard rename(source, target) == 0 else {
                throw FileSystem.failure("putting the copy at", target, advice: "a directory cannot replace a file")
            }
        }
    }

    /// Packs `path` of the container into a tar in the transfer area for a client to
    /// fetch with ReceiveFile; its entries are named from the path's last component.
    public func copyFromContainer(_ idOrName: String, path: String) async throws(LibpodError) -> String {
        guard path.hasPrefix("/") else {
            throw .invalidArgument("the path \"\(path)\" in the container must be an absolute path")
        }
        guard let name = FileTreeArchive.entryName(of: path) else {
            throw .invalidArgument("\"\(path)\" names no file; give a file or directory below /")
        }
        let output = try transfers.newFile(suffix: ".tar")
        do throws(LibpodError) {
            try await withMountedRoot(idOrName) { root throws(LibpodError) in
                let source = try Self.resolve(path, in: root)
                var info = stat()
                guard lstat(source, &info) == 0 else {
                    throw .invalidArgument("\(path) does not exist in the container")
                }
                try Self.pack(source, as: name, to: output)
            }
        } catch {
            unlink(output)
            throw error
        }
        return output
    }

    /// Runs `body` with the container's root file system mounted (one more user of its
    /// mount), given back afterwards whatever happens.
    func withMountedRoot(_ idOrName: String, _ body: (String) throws(LibpodError) -> Void) async throws(LibpodError) {
        let root = try await mountContainer(idOrName)
        do {
            try body(root)
        } catch {
            try? await unmountContainer(idOrName)
            throw error
        }
        try await unmountContainer(idOrName)
    }

    /// FileTreeArchive.pack with its failure as Libpod's.
    public static func pack(_ source: String, as name: String, to output: String) throws(LibpodError) {
        do throws(FileTreeArchive.Failure) {
            try FileTreeArchive.pack(source, as: name, to: output)
        } catch {
            throw .helperFailed(program: "libarchive", cause: error.description)
        }
    }

    /// `path` as the container sees it, on the host below `root`: symbolic links are
    /// followed as inside the container (an absolute target starts again at `root`, `..`
    /// stops there), so no link the container holds leads out of it. What does not exist
    /// yet is kept as written.
    static func resolve(_ path: String, in root: String) throws(LibpodError) -> String {
        var resolved: [Substring] = []
        var pending = Array(path.split(separator: "/").reversed())
        var links = 0
        while let component = pending.popLast() {
            switch component {
            case ".": continue
            case "..": _ = resolved.popLast(); continue
            default: break
            }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            guard lstat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else {
                resolved.append(component)
                continue
            }
            links += 1
            guard links <= 40 else { throw .invalidArgument("\(path) in the container has too many levels of symbolic links") }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(candidate, &buffer, buffer.count - 1)
            guard count >= 0 else { throw FileSystem.failure("reading the link", candidate) }
            let target = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved = [] }
            pending.append(contentsOf: target.split(separator: "/").reversed())
        }
        return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
    }
}
