import Dispatch
import Foundation
import Glibc
import PodmanClient

/// A session with a process in a container, at this terminal: its output to our stdout
/// and stderr, our stdin to it (when asked), and, with a terminal, the terminal in raw
/// mode (restored however the session ends) and its size following the window.
enum TerminalSession {
    /// Runs `process` to its end; returns its exit code.
    static func run(_ process: AttachedProcess, sendInput: Bool, tty: Bool) async throws -> Int32 {
        let terminal = tty && isatty(0) == 1 ? RawTerminal() : nil
        defer { terminal?.restore() }
        // Restored on a signal too, or the shell is left without echo.
        let signals = [SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                terminal?.restore()
                exit(128 + number)
            }
            source.resume()
            return source
        }
        defer { for source in signals { source.cancel() } }
        var resizes: (any DispatchSourceSignal)?
        if terminal != nil {
            if let size = windowSize() { process.resize(width: size.width, height: size.height) }
            signal(SIGWINCH, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGWINCH)
            source.setEventHandler {
                if let size = windowSize() { process.resize(width: size.width, height: size.height) }
            }
            source.resume()
            resizes = source
        }
        defer { resizes?.cancel() }
        if sendInput {
            // A thread of its own: reading a terminal blocks, and outlives the session if
            // the process ends first (the program exits then).
            Thread {
                var buffer = [UInt8](repeating: 0, count: 32768)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { break }
                    process.write(buffer[0..<count])
                }
                process.closeInput()
            }.start()
        }
        for try await chunk in process.output {
            switch chunk {
            case .stdout(let bytes): writeAll(1, bytes)
            case .stderr(let bytes): writeAll(2, bytes)
            }
        }
        return try await process.exitCode()
    }

    static func windowSize() -> (width: Int, height: Int)? {
        var size = winsize()
        guard ioctl(0, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

/// stdin's terminal in raw mode (keys go to the container as typed, ctrl-c included),
/// until `restore`.
final class RawTerminal: @unchecked Sendable {
    private var saved = termios()
    private let lock = NSLock()
    private var restored = false

    init?() {
        guard tcgetattr(0, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        guard tcsetattr(0, TCSANOW, &raw) == 0 else { return nil }
    }

    func restore() {
        lock.lock()
        defer { lock.unlock() }
        guard !restored else { return }
        restored = true
        tcsetattr(0, TCSANOW, &saved)
    }
}
