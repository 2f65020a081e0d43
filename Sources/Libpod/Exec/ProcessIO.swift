/// The input and output of a process a caller attaches to (an exec session, a
/// container's main process): what the caller sends, and where the output goes.
public struct ProcessIO: Sendable {
    /// What the caller sends, until its stream finishes (the caller went away).
    public var input: AsyncStream<SessionInput>
    /// Takes each piece of output in order; throwing (the caller is gone) ends the session.
    public var output: @Sendable (SessionOutput) async throws -> Void

    public init(input: AsyncStream<SessionInput>, output: @escaping @Sendable (SessionOutput) async throws -> Void) {
        self.input = input
        self.output = output
    }
}

public enum SessionInput: Sendable, Equatable {
    /// Bytes for the process's standard input.
    case data([UInt8])
    /// The input ends: the process reads end-of-file.
    case end
    /// The terminal's new size.
    case resize(width: Int, height: Int)
}

public enum SessionOutput: Sendable, Equatable {
    case stdout([UInt8])
    case stderr([UInt8])
}

/// How an attached session ended.
public enum AttachOutcome: Sendable, Equatable {
    /// The process exited with this code (a signal's is 128 + its number).
    case exited(Int32)
    /// The caller typed the detach keys: the process runs on.
    case detached
    /// The caller went away before the process ended. An exec session's process is
    /// killed then; a container runs on.
    case callerGone
}

/// podman's `--detach-keys`: `ctrl-p,ctrl-q` (the default), `ctrl-a`, `a`, ...; an empty
/// list never detaches.
public struct DetachKeys: Sendable, Equatable {
    public let sequence: [UInt8]

    public static let podmanDefault = DetachKeys(sequence: [0x10, 0x11])

    public init(sequence: [UInt8]) {
        self.sequence = sequence
    }

    /// Parses podman's notation; nil or "" is the default.
    public init(parsing text: String?) throws(LibpodError) {
        guard let text, !text.isEmpty else {
            self = .podmanDefault
            return
        }
        var bytes: [UInt8] = []
        for key in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = key.lowercased()
            if name.hasPrefix("ctrl-"), name.count == 6, let last = name.last?.asciiValue {
                switch last {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): bytes.append(last - UInt8(ascii: "a") + 1)
                case UInt8(ascii: "@"): bytes.append(0)
                case UInt8(ascii: "["): bytes.append(27)
                case UInt8(ascii: "\\"): bytes.append(28)
                case UInt8(ascii: "]"): bytes.append(29)
                case UInt8(ascii: "^"): bytes.append(30)
                case UInt8(ascii: "_"): bytes.append(31)
                default: throw .invalidArgument("invalid detach key \"\(key)\": use ctrl-a to ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_ or a single character")
                }
            } else if key.utf8.count == 1, let byte = key.utf8.first {
                bytes.append(byte)
            } else {
                throw .invalidArgument("invalid detach key \"\(key)\": use ctrl-a to ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_ or a single character, comma separated")
            }
        }
        sequence = bytes
    }
}

/// Finds the detach keys in typed input. Keys typed at a terminal arrive a few at a time;
/// piped data arrives in larger pieces and may hold the keys' bytes by chance (random
/// data holds ctrl-p,ctrl-q every 64 KiB or so): a piece longer than the sequence is
/// never matched and ends any partial match, as podman matched only single-byte reads.
/// Bytes that may begin the sequence are held until it is clear whether they do.
struct DetachKeyMatcher {
    let keys: DetachKeys
    private var held: [UInt8] = []

    init(_ keys: DetachKeys) {
        self.keys = keys
    }

    /// The bytes to pass on, and whether the sequence was typed (the bytes before it are
    /// passed; nothing after it is).
    mutating func scan(_ bytes: [UInt8]) -> (forward: [UInt8], detach: Bool) {
        let sequence = keys.sequence
        guard !sequence.isEmpty else { return (bytes, false) }
        guard bytes.count <= sequence.count else {
            defer { held = [] }
            return (held + bytes, false)
        }
        var forward: [UInt8] = []
        for byte in bytes {
            held.append(byte)
            if held.count <= sequence.count, Array(sequence.prefix(held.count)) == held {
                if held.count == sequence.count { return (forward, true) }
                continue
            }
            // Not the sequence: let go of the oldest held byte until the rest could start it.
            while !held.isEmpty && !(held.count <= sequence.count && Array(sequence.prefix(held.count)) == held) {
                forward.append(held.removeFirst())
            }
        }
        return (forward, false)
    }
}
