import Foundation
import Glibc
import Synchronization

/// Files a remote client sends to the daemon (SendFile, for import and load) and files the
/// daemon prepares for a client to fetch (ReceiveFile, for save and export): one
/// directory under static_dir (disk, not tmp_dir's memory), files readable by root only.
///
/// A file lives from the transfer until the call that uses it (which deletes it) or, if
/// that call never comes (the client went away), until it is older than `abandonedAfter`:
/// the daemon sweeps it then, and at start. A client can fetch only files in this
/// directory, never an arbitrary path of the host.
public struct TransferArea: Sendable {
    public let directory: String
    /// The largest file a client may send, in bytes.
    public let sizeLimit: Int64
    /// How long a transferred file waits for the call that uses it.
    public static let abandonedAfter: Duration = .seconds(600)

    init(directory: String, sizeLimit: Int64) {
        self.directory = directory
        self.sizeLimit = sizeLimit
    }

    /// Checks that `length` bytes may come, before any of them do: within the size
    /// limit and the free space of the directory's file system.
    public func checkRoom(for length: Int64) throws(LibpodError) {
        guard length >= 0 else { throw .invalidArgument("a file of \(length) bytes cannot be sent; give its length in bytes") }
        guard length <= sizeLimit else {
            throw .invalidArgument("\(length) bytes is over the daemon's limit of \(sizeLimit) bytes for a sent file (max_transfer_size)")
        }
        try FileSystem.ensureDirectory(directory, mode: 0o700)
        var info = statvfs()
        if statvfs(directory, &info) == 0 {
            let free = Int64(info.f_bavail) * Int64(info.f_frsize)
            guard length <= free else {
                throw FileSystem.failure(
                    "receiving \(length) bytes into", directory, ENOSPC,
                    advice: "only \(free) bytes are free there; free some space or send a smaller file")
            }
        }
    }

    /// A file made for bytes a client announced, before they come. Its descriptor is
    /// closed exactly once, by whichever of `receive` and `discard` comes first.
    public final class IncomingFile: Sendable {
        public let path: String
        public let length: Int64
        private let descriptor: Mutex<Int32?>

        fileprivate init(path: String, length: Int64, descriptor: Int32) {
            self.path = path
            self.length = length
            self.descriptor = Mutex(descriptor)
        }

        fileprivate func take() -> Int32? { descriptor.withLock { open in defer { open = nil }; return open } }

        /// Gives the file up unless it was received: the transfer failed or never started.
        public func discard() {
            if let open = take() { close(open) }
            unlink(path)
        }
    }

    /// Makes the file `length` announced bytes will go to, once there is room for them.
    public func incomingFile(length: Int64) throws(LibpodError) -> IncomingFile {
        try checkRoom(for: length)
        var template = Array("\(directory)/sent-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw FileSystem.failure("creating a file in", directory) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return IncomingFile(path: path, length: length, descriptor: descriptor)
    }

    /// Receives exactly the announced bytes from `chunks` into `file`. Anything short of
    /// that (the client hung up, the disk filled) removes the file.
    public func receive(_ file: IncomingFile, from chunks: some AsyncSequence<[UInt8], any Error>) async throws(LibpodError) {
        guard let descriptor = file.take() else { throw .cancelled("receiving a file that was given up") }
        var received: Int64 = 0
        do throws(LibpodError) {
            defer { close(descriptor) }
            do {
                for try await chunk in chunks {
                    try Self.writeAll(descriptor, chunk, path: file.path)
                    received += Int64(chunk.count)
                }
            } catch let error as LibpodError {
                throw error
            } catch {
                throw .cancelled("receiving a file (\(received) of \(file.length) bytes came)")
            }
            guard received == file.length else {
                throw .invalidArgument("the client sent \(received) of the \(file.length) bytes it announced")
            }
        } catch {
            unlink(file.path)
            throw error
        }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(LibpodError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystem.failure("writing", path, advice: errno == ENOSPC ? "the disk is full; free some space and send again" : nil)
            }
            offset += written
        }
    }

    /// Whether `path` is a file of this area (what ReceiveFile may send, what a call may
    /// delete after using it).
    public func holds(_ path: String) -> Bool {
        let resolved = URL(fileURLWithPath: path).standardizedFileURL.path
        return resolved.hasPrefix(directory + "/") && !resolved.dropFirst(directory.count + 1).contains("/")
    }

    /// A new file name in the area for the daemon to write (save, export).
    public func newFile(suffix: String = "") throws(LibpodError) -> String {
        try FileSystem.ensureDirectory(directory, mode: 0o700)
        var template = Array("\(directory)/prepared-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw FileSystem.failure("creating a file in", directory) }
        close(descriptor)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard !suffix.isEmpty else { return path }
        guard rename(path, path + suffix) == 0 else { throw FileSystem.failure("naming", path + suffix) }
        return path + suffix
    }

    /// Removes files older than `age` (abandoned transfers); all of them for `.zero`.
    public func sweep(olderThan age: Duration = TransferArea.abandonedAfter) {
        let now = Date()
        for name in FileSystem.list(directory) {
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
            if age == .zero || now.timeIntervalSince(modified) > Double(age.components.seconds) { unlink(path) }
        }
    }
}
