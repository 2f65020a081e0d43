import CArchive
import Glibc

extension ImageStore {
    /// Builds a root filesystem in the existing directory `target` by copying layers on
    /// top of each other, for the vfs driver (no overlay mount). `layerDirs` is TOP-most
    /// first, as `layerDirectories(of:)` returns it; the copy starts from the last one.
    /// Whiteouts in either form (overlay's 0/0 character device and opaque xattr, or the
    /// `.wh.` files a layer keeps when it was extracted without root) delete what lower
    /// layers put there and are not copied themselves.
    public static func applyLayersByCopy(_ layerDirs: [String], into target: String) throws(LibpodError) {
        guard FileSystem.isDirectory(target) else {
            throw .invalidArgument("cannot copy layers into \(target): it is not a directory")
        }
        for layer in layerDirs.reversed() {
            var copier = LayerCopier()
            try copier.merge(layer, into: target)
        }
    }

    /// `applyLayersByCopy` for the storage layer, which holds a store.
    public func copyLayers(_ layerDirs: [String], into target: String) throws(LibpodError) {
        try Self.applyLayersByCopy(layerDirs, into: target)
    }
}

/// Copies one layer; never follows a symlink on either side (the target tree holds the
/// lower layers' symlinks, which may point anywhere on the host).
private struct LayerCopier {
    private struct Inode: Hashable {
        var device: UInt
        var number: UInt
    }

    private let privileged = geteuid() == 0
    /// Files of this layer with more than one link, by inode: their first copy, so that
    /// later names become hard links again instead of copies.
    private var linked: [Inode: String] = [:]

    mutating func merge(_ source: String, into target: String) throws(LibpodError) {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw FileSystem.failure("examining the layer", source) }
        try mergeDirectory(source, into: target, info: info)
    }

    private mutating func mergeDirectory(_ source: String, into target: String, info: stat) throws(LibpodError) {
        let names = FileSystem.list(source).sorted()
        if names.contains(OverlayWhiteout.opaqueMarker) || Self.isOpaque(source) {
            for name in FileSystem.list(target) { try FileSystem.removeTree(target + "/" + name) }
        }
        for name in names {
            if name.hasPrefix(OverlayWhiteout.prefix) {
                // `.wh..wh.` names are markers, never whiteouts of a file.
                if !name.hasPrefix(OverlayWhiteout.prefix + OverlayWhiteout.prefix) {
                    try FileSystem.removeTree(target + "/" + name.dropFirst(OverlayWhiteout.prefix.count))
                }
                continue
            }
            try copyEntry(source + "/" + name, to: target + "/" + name)
        }
        try applyMetadata(from: source, to: target, info: info)
    }

    private mutating func copyEntry(_ source: String, to target: String) throws(LibpodError) {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw FileSystem.failure("examining", source) }
        let type = info.st_mode & S_IFMT
        if type == S_IFCHR && info.st_rdev == 0 {
            try FileSystem.removeTree(target)
            return
        }
        var existing = stat()
        let present = lstat(target, &existing) == 0
        if type == S_IFDIR {
            if present && existing.st_mode & S_IFMT != S_IFDIR { try FileSystem.removeTree(target) }
            if !present || existing.st_mode & S_IFMT != S_IFDIR {
                guard mkdir(target, 0o700) == 0 else { throw FileSystem.failure("creating directory", target) }
            }
            try mergeDirectory(source, into: target, info: info)
            return
        }
        if present { try FileSystem.removeTree(target) }
        switch type {
        case S_IFREG:
            let inode = Inode(device: UInt(info.st_dev), number: UInt(info.st_ino))
            if info.st_nlink > 1, let first = linked[inode], link(first, target) == 0 { return }
            try copyFile(source, to: target)
            if info.st_nlink > 1 { linked[inode] = target }
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(source, &buffer, buffer.count - 1)
            guard length >= 0 else { throw FileSystem.failure("reading the link", source) }
            buffer[length] = 0
            guard symlink(buffer, target) == 0 else { throw FileSystem.failure("creating the link", target) }
        default:
            // Devices only as root; fifos and sockets for anyone.
            guard mknod(target, info.st_mode, info.st_rdev) == 0 else {
                if errno == EPERM && !privileged { return }
                throw FileSystem.failure("creating the node", target)
            }
        }
        try applyMetadata(from: source, to: target, info: info)
    }

    private func copyFile(_ source: String, to target: String) throws(LibpodError) {
        let input = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else { throw FileSystem.failure("opening", source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw FileSystem.failure("creating", target) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystem.failure("reading", source)
            }
            if count == 0 { return }
            var written = 0
            while written < count {
                let step = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
                if step < 0 {
                    if errno == EINTR { continue }
                    throw FileSystem.failure("writing", target)
                }
                written += step
            }
        }
    }

    /// Owner (as root), mode, xattrs, then times last, since every other change touches
    /// ctime and writing into a directory its mtime.
    private func applyMetadata(from source: String, to target: String, info: stat) throws(LibpodError) {
        let isLink = info.st_mode & S_IFMT == S_IFLNK
        if privileged, lchown(target, info.st_uid, info.st_gid) != 0 {
            throw FileSystem.failure("changing the owner of", target)
        }
        if !isLink, chmod(target, info.st_mode & 0o7777) != 0 {
            throw FileSystem.failure("changing the mode of", target)
        }
        copyAttributes(from: source, to: target)
        var times = [info.st_atim, info.st_mtim]
        _ = utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// Extended attributes (file capabilities, SELinux labels), except overlay's own. A
    /// name the kernel will not let us set (trusted.* without root) is left out.
    private func copyAttributes(from source: String, to target: String) {
        let listLength = llistxattr(source, nil, 0)
        guard listLength > 0 else { return }
        var list = [CChar](repeating: 0, count: listLength)
        let filled = llistxattr(source, &list, list.count)
        guard filled > 0 else { return }
        var start = 0
        for index in 0..<filled where list[index] == 0 {
            let name = list[start..<index].withUnsafeBufferPointer { pointer in
                String(decoding: UnsafeRawBufferPointer(pointer), as: UTF8.self)
            }
            start = index + 1
            if name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.") { continue }
            let size = lgetxattr(source, name, nil, 0)
            guard size >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: max(size, 1))
            let read = lgetxattr(source, name, &value, value.count)
            guard read >= 0 else { continue }
            _ = lsetxattr(target, name, value, read, 0)
        }
    }

    private static func isOpaque(_ directory: String) -> Bool {
        for name: String in ["trusted.overlay.opaque", "user.overlay.opaque"] {
            var value: [UInt8] = [0, 0]
            if lgetxattr(directory, name, &value, value.count) == 1 && value[0] == UInt8(ascii: "y") { return true }
        }
        return false
    }
}
