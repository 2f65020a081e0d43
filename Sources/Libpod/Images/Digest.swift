import Crypto
import Glibc

/// `sha256:<hex>` digests, as OCI writes them.
enum Digest {
    static let prefix = "sha256:"

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func sha256(_ bytes: [UInt8]) -> String { prefix + hex(SHA256.hash(data: bytes)) }

    /// The digest of a file's bytes, read in chunks so a large blob is never in memory.
    static func sha256(file path: String) throws(LibpodError) -> (digest: String, size: Int64) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystem.failure("opening", path) }
        defer { close(descriptor) }
        var hasher = SHA256()
        var size: Int64 = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystem.failure("reading", path)
            }
            if count == 0 { break }
            chunk.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            size += Int64(count)
        }
        return (prefix + hex(hasher.finalize()), size)
    }

    static func isHex64(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy(isLowerHex)
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    /// Whether `text` is `sha256:` and 64 lowercase hex digits: the only algorithm this
    /// store accepts, and the check that makes a digest safe to use as a file name.
    static func isValidSHA256(_ text: String) -> Bool {
        text.hasPrefix(prefix) && isHex64(text.dropFirst(prefix.count))
    }

    /// The hex part of a valid digest.
    static func hexPart(_ digest: String) -> String { String(digest.dropFirst(prefix.count)) }
}
