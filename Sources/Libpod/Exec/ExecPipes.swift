import Glibc
import Synchronization

/// An exec process's own standard streams, held by the daemon: a socket for its input
/// (so that a write to a process that has gone is an error, not a SIGPIPE for the
/// daemon) and pipes for its output. conmon hands them to the process as they are
/// (`-l passthrough`): no relay in between, which is what makes `exec -i` fast.
final class ExecPipes: SessionStreams {
    /// The process's ends, for conmon's 0, 1 and 2; closed here once conmon has them.
    let childEnds: (stdin: Int32, stdout: Int32, stderr: Int32)
    private let input: Int32
    private let stdout: Int32
    private let stderr: Int32
    /// Written to wake a `receive` that waits in poll.
    private let wake: (read: Int32, write: Int32)
    private let state = Mutex<(stdoutOpen: Bool, stderrOpen: Bool, hungUp: Bool)>((true, true, false))
    /// The reading thread's buffer (one thread reads; the lock only satisfies Sendable).
    private let buffer = Mutex<[UInt8]>([])

    init() throws(LibpodError) {
        var socketEnds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &socketEnds) == 0 else {
            throw FileSystem.failure("making an exec session's input", "")
        }
        var made: [Int32] = socketEnds
        func pipe() throws(LibpodError) -> (read: Int32, write: Int32) {
            var ends: [Int32] = [0, 0]
            guard let pipe2 = LinuxCalls.pipe2, pipe2(&ends, O_CLOEXEC) == 0 else {
                for descriptor in made { close(descriptor) }
                throw FileSystem.failure("making an exec session's output", "")
            }
            made += ends
            return (ends[0], ends[1])
        }
        let out = try pipe()
        let err = try pipe()
        let wake = try pipe()
        // Fewer, larger reads: a megabyte per pipe rather than 64 KiB.
        // F_SETPIPE_SZ (1031), which the Glibc module does not name.
        for descriptor in [out.read, err.read] { _ = fcntl(descriptor, 1031, Int32(1 << 20)) }
        // The process's input end reads only: what it writes there goes nowhere.
        shutdown(socketEnds[1], Int32(SHUT_WR))
        childEnds = (socketEnds[1], out.write, err.write)
        input = socketEnds[0]
        stdout = out.read
        stderr = err.read
        self.wake = wake
    }

    /// conmon has the process's ends: only the process holds them now, so its exit (and
    /// its children's) ends the output.
    func releaseChildEnds() {
        close(childEnds.stdin)
        close(childEnds.stdout)
        close(childEnds.stderr)
    }

    func receive(limit: Int) -> SessionChunk? {
        while true {
            let (outOpen, errOpen, hungUp) = state.withLock { ($0.stdoutOpen, $0.stderrOpen, $0.hungUp) }
            guard !hungUp, outOpen || errOpen else { return nil }
            var descriptors = [
                pollfd(fd: outOpen ? stdout : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: errOpen ? stderr : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 3, -1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, descriptors[2].revents == 0 else { return nil }
            // stderr first when both are ready: it is usually small, and what it says
            // belongs before the output that follows it.
            for (index, isError) in [(1, true), (0, false)] where descriptors[index].revents != 0 {
                let descriptor = isError ? stderr : stdout
                // Into the buffer the reading thread keeps (a fresh megabyte per read
                // would be a fresh mapping, zeroed page by page), out as exactly what came.
                let chunk = buffer.withLock { buffer -> [UInt8]? in
                    if buffer.count < limit { buffer = [UInt8](repeating: 0, count: limit) }
                    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, limit) }
                    if count < 0 && (errno == EINTR || errno == EAGAIN) { return [] }
                    return count > 0 ? Array(buffer[0..<count]) : nil
                }
                guard let chunk else {
                    state.withLock { if isError { $0.stderrOpen = false } else { $0.stdoutOpen = false } }
                    continue
                }
                if chunk.isEmpty { continue }
                return isError ? .stderr(chunk) : .stdout(chunk)
            }
        }
    }

    /// What the process wrote to stderr so far, without waiting (the runtime's message
    /// when it could not start the process).
    func drainStandardError() -> String {
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            var descriptor = pollfd(fd: stderr, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { read(stderr, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            collected += buffer[0..<count]
        }
        return String(decoding: collected, as: UTF8.self)
    }

    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(input, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    func endInput() {
        shutdown(input, Int32(SHUT_WR))
    }

    func hangUp() {
        let first = state.withLock { state -> Bool in
            defer { state.hungUp = true }
            return !state.hungUp
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        shutdown(input, Int32(SHUT_RDWR))
    }

    deinit {
        for descriptor in [input, stdout, stderr, wake.read, wake.write] { close(descriptor) }
    }
}
