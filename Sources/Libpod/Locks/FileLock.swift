import Glibc
import Synchronization

/// An exclusive lock on a file that holds across threads, tasks and processes: `flock`
/// locks belong to an open file description, so every acquisition opens its own.
///
/// Waiting never blocks a thread of the cooperative pool: the async acquire polls with a
/// non-blocking `flock` and sleeps between tries (contention is brief and rare: one
/// container's transition against another's).
public final class FileLock: Sendable {
    public let path: String
    /// -1 once released.
    private let descriptor: Atomic<Int32>

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Atomic(descriptor)
    }

    /// Waits for the lock, cancellably.
    public static func acquire(path: String) async throws(LibpodError) -> FileLock {
        var delay: UInt64 = 100_000  // 0.1 ms, doubling up to 10 ms
        while true {
            if let lock = try tryAcquire(path: path) { return lock }
            do {
                try await Task.sleep(nanoseconds: delay)
            } catch {
                throw .cancelled("waiting for the lock \(path)")
            }
            delay = min(delay * 2, 10_000_000)
        }
    }

    /// Waits for the lock on this thread: only for synchronous setup paths off the
    /// cooperative pool's hot paths (opening a database).
    public static func acquireBlocking(path: String) throws(LibpodError) -> FileLock {
        while true {
            let descriptor = try openLockFile(path)
            guard flock(descriptor, LOCK_EX) == 0 else {
                let code = errno
                close(descriptor)
                if code == EINTR { continue }
                throw FileSystem.failure("locking", path, code)
            }
            if stillLinked(descriptor, path: path) { return FileLock(path: path, descriptor: descriptor) }
            close(descriptor)
        }
    }

    /// The lock if it is free now, nil if someone holds it.
    public static func tryAcquire(path: String) throws(LibpodError) -> FileLock? {
        let descriptor = try openLockFile(path)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK || code == EINTR { return nil }
            throw FileSystem.failure("locking", path, code)
        }
        // The holder before us may have removed the file (the container is gone); a lock
        // on an unlinked file excludes no one, so try again on the new file.
        guard stillLinked(descriptor, path: path) else {
            close(descriptor)
            return nil
        }
        return FileLock(path: path, descriptor: descriptor)
    }

    private static func openLockFile(_ path: String) throws(LibpodError) -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileSystem.failure("opening the lock file", path) }
        return descriptor
    }

    private static func stillLinked(_ descriptor: Int32, path: String) -> Bool {
        var held = stat()
        var current = stat()
        return fstat(descriptor, &held) == 0 && stat(path, &current) == 0 && held.st_ino == current.st_ino
            && held.st_dev == current.st_dev
    }

    /// Releases the lock; later calls do nothing.
    public func release() {
        let descriptor = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if descriptor >= 0 { close(descriptor) }
    }

    /// Removes the lock file, then releases: for an object that is gone for good.
    public func releaseAndRemove() {
        if descriptor.load(ordering: .acquiring) >= 0 { unlink(path) }
        release()
    }

    deinit { release() }
}
