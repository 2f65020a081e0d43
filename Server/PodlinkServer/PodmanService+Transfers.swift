import Foundation
import Glibc
import Libpod
import PodlinkInterfaces
import Varlink

/// SendFile and ReceiveFile: files between a remote client and the daemon, on an upgraded
/// connection (docs/io.podman.md, "Upgraded calls").
extension PodmanService {
    /// The client announces `length` bytes; the reply names the file they will go to;
    /// then exactly that many raw bytes, answered with the path and a ":"; then the
    /// connection is varlink again, for the call that uses the file (ImportImage,
    /// LoadImage), as podman-remote 1.9.3 does it.
    public func sendFile(_ parameters: IoPodman.Methods.SendFile.Parameters, call: VarlinkCall<IoPodman.Methods.SendFile.Reply>) async throws -> IoPodman.Methods.SendFile.Reply {
        try call.requireUpgrade()
        let transfers = runtime.transfers
        // Refused before the upgrade, while the refusal can still be a varlink error.
        let file = try await mapping { try transfers.incomingFile(length: Int64(parameters.length)) }
        let reply = IoPodman.Methods.SendFile.Reply(fileHandle: file.path)
        do {
            try await call.upgrade(confirming: reply, receivingBytes: parameters.length) { raw in
                try await mapping { try await transfers.receive(file, from: raw.inbound) }
                try await raw.write(Array((file.path + ":").utf8))
            }
        } catch {
            // The client went away before it had the file's name: nobody will use it.
            file.discard()
            throw error
        }
        return reply
    }

    /// Sends a file the daemon prepared (ImageSave, ExportContainer): the reply gives its
    /// length, then its bytes follow raw, and the connection closes. With `delete` the
    /// file leaves the transfer area when the sending begins.
    public func receiveFile(_ parameters: IoPodman.Methods.ReceiveFile.Parameters, call: VarlinkCall<IoPodman.Methods.ReceiveFile.Reply>) async throws -> IoPodman.Methods.ReceiveFile.Reply {
        try call.requireUpgrade()
        let transfers = runtime.transfers
        guard transfers.holds(parameters.path) else {
            throw invalid("\(parameters.path) is not a file the daemon prepared for sending; ReceiveFile sends only what ImageSave or ExportContainer returned")
        }
        let descriptor = open(parameters.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw IoPodman.ErrorOccurred(reason: "opening \(parameters.path): \(String(cString: strerror(errno))); it may have been fetched already")
        }
        defer { close(descriptor) }
        // Deleted as soon as it is open (the descriptor still reads it): a client that has
        // all the bytes finds the file gone, never half a moment later.
        if parameters.delete { unlink(parameters.path) }
        var info = stat()
        fstat(descriptor, &info)
        let reply = IoPodman.Methods.ReceiveFile.Reply(len: Int(info.st_size))
        let handle = FileDescriptorBox(descriptor)
        try await call.upgrade(confirming: reply) { raw in
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(handle.descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                try await raw.write(buffer[..<count])
            }
            // The client closes once it has its N bytes. Closing first could drop what
            // the socket has not sent yet, so the connection is held until then (or for
            // a while, for a client that never closes).
            let drain = Task {
                for try await _ in raw.inbound {}
            }
            let linger = Task {
                try? await Task.sleep(for: FramedSession.lingerAfterExit)
                drain.cancel()
            }
            _ = await drain.result
            linger.cancel()
        }
        return reply
    }
}

/// A descriptor for a `@Sendable` closure that reads it on one task at a time.
private struct FileDescriptorBox: Sendable {
    let descriptor: Int32
    init(_ descriptor: Int32) { self.descriptor = descriptor }
}
