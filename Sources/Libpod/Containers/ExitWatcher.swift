import Glibc
import ProcessSpawn
import Synchronization

/// Tells waiters when conmon writes a container's exit file: one inotify watch on the
/// exits directory, read by one thread, instead of polling the OCI runtime.
final class ExitWatcher: Sendable {
    let directory: String
    private let inotify: Int32
    /// Written to wake the reader thread so that it stops.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let waiters = Mutex<[String: [Int: CheckedContinuation<Void, Never>]]>([:])
    private let nextToken = Atomic<Int>(0)

    init(directory: String) throws(LibpodError) {
        self.directory = directory
        let descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { throw FileSystem.failure("inotify_init1 for", directory) }
        guard inotify_add_watch(descriptor, directory, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) >= 0 else {
            let code = errno
            close(descriptor)
            throw FileSystem.failure("watching", directory, code)
        }
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            close(descriptor)
            throw FileSystem.failure("socketpair for", directory)
        }
        inotify = descriptor
        wakeRead = pair[0]
        wakeWrite = pair[1]
        ProcessSpawn.detachThread { [self] in readLoop() }
    }

    /// Stops the reader thread and resumes every waiter.
    func stop() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    func exitFile(_ id: String) -> String { "\(directory)/\(id)" }

    /// Returns once the exit file of `id` exists (at once if it does already), or when
    /// the task is cancelled.
    func waitForExitFile(_ id: String) async {
        let token = nextToken.add(1, ordering: .relaxed).newValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                waiters.withLock { $0[id, default: [:]][token] = continuation }
                // Registered first, checked second: a file written in between is not missed.
                if FileSystem.exists(exitFile(id)) { resume(id, token: token) }
                if Task.isCancelled { resume(id, token: token) }
            }
        } onCancel: {
            resume(id, token: token)
        }
    }

    /// Waits for the exit file at most `timeout`; returns whether it appeared.
    func waitForExitFile(_ id: String, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.waitForExitFile(id)
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || FileSystem.exists(exitFile(id))
        }
    }

    private func resume(_ id: String, token: Int) {
        let continuation = waiters.withLock { waiters -> CheckedContinuation<Void, Never>? in
            let found = waiters[id]?.removeValue(forKey: token)
            if waiters[id]?.isEmpty == true { waiters[id] = nil }
            return found
        }
        continuation?.resume()
    }

    private func resumeAll(_ id: String) {
        let found = waiters.withLock { $0.removeValue(forKey: id) } ?? [:]
        for continuation in found.values { continuation.resume() }
    }

    /// The reader: blocks in poll on its own thread until the watcher stops.
    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var descriptors = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if descriptors[1].revents != 0 { break }
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            if count <= 0 { continue }
            var offset = 0
            buffer.withUnsafeBytes { raw in
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = raw[nameStart..<min(nameStart + length, count)].prefix { $0 != 0 }
                    resumeAll(String(decoding: nameBytes, as: UTF8.self))
                    offset = nameStart + length
                }
            }
        }
        close(inotify)
        close(wakeRead)
        close(wakeWrite)
        let everyone = waiters.withLock { waiters in
            defer { waiters = [:] }
            return waiters.values.flatMap(\.values)
        }
        for continuation in everyone { continuation.resume() }
    }
}
