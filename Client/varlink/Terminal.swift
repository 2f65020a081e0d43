#if canImport(Glibc)
import Glibc
#endif

/// stdout or stderr, written unbuffered with write(2): what is printed is out even if the
/// process ends abruptly (a timeout ends it from another thread).
struct OutputStream: Sendable {
    let descriptor: Int32
    let isTerminal: Bool
    /// Colour only on a terminal, and not when NO_COLOR is set or TERM is dumb.
    let usesColour: Bool

    init(descriptor: Int32) {
        self.descriptor = descriptor
        isTerminal = isatty(descriptor) == 1
        let noColour = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        let dumb = getenv("TERM").map { String(cString: $0) == "dumb" } ?? false
        usesColour = isTerminal && !noColour && !dumb
    }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }

    /// `text` in an SGR style when colour is on.
    func styled(_ text: String, _ style: Style) -> String {
        usesColour ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    enum Style: String {
        case bold = "1"
        case key = "1;34"
        case string = "32"
        case number = "36"
        case literal = "35"
        case error = "1;31"
        case dim = "2"
    }
}

enum Terminal {
    static let standardOutput = OutputStream(descriptor: 1)
    static let standardError = OutputStream(descriptor: 2)

    static var standardInputIsTerminal: Bool { isatty(0) == 1 }

    /// All of stdin, read on a thread of its own so that no task thread blocks.
    static func readStandardInput() async throws -> [UInt8] {
        let result = await Threads.run { Files.readAll(0) }
        do {
            return try result.get()
        } catch {
            throw ToolFailure(.cannotRead, "cannot read stdin: \(error)")
        }
    }
}
