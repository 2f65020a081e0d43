import Glibc

/// An IPv4 or IPv6 subnet in CIDR notation, for choosing and checking network ranges.
struct IPSubnet: Equatable, CustomStringConvertible {
    /// The network address (host bits cleared), 4 or 16 bytes.
    let address: [UInt8]
    let prefixLength: Int

    init(address: [UInt8], prefixLength: Int) {
        self.prefixLength = prefixLength
        self.address = address.enumerated().map { index, byte in
            let bits = max(0, min(8, prefixLength - index * 8))
            return bits == 8 ? byte : byte & ~(0xFF >> bits)
        }
    }

    /// `10.89.0.0/24`, `fd00::/64`; the host bits of the address may be set.
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bytes = Self.parse(String(parts[0])), let length = Int(parts[1]),
            (0...bytes.count * 8).contains(length)
        else { return nil }
        self.init(address: bytes, prefixLength: length)
    }

    var isIPv4: Bool { address.count == 4 }

    /// The address at `offset` from the network address (1 is the first host).
    func address(at offset: Int) -> [UInt8] {
        var bytes = address
        var carry = offset
        for index in bytes.indices.reversed() where carry != 0 {
            let sum = Int(bytes[index]) + carry
            bytes[index] = UInt8(truncatingIfNeeded: sum)
            carry = sum >> 8
        }
        return bytes
    }

    /// The last address but one (IPv4's broadcast is the last).
    var lastHost: [UInt8] {
        var bytes = address.enumerated().map { index, byte in
            let bits = max(0, min(8, prefixLength - index * 8))
            return byte | (bits == 8 ? 0 : 0xFF >> bits)
        }
        if isIPv4 { bytes[3] &-= 1 }
        return bytes
    }

    func contains(_ bytes: [UInt8]) -> Bool {
        bytes.count == address.count && IPSubnet(address: bytes, prefixLength: prefixLength).address == address
    }

    func overlaps(_ other: IPSubnet) -> Bool {
        guard other.address.count == address.count else { return false }
        let shorter = min(prefixLength, other.prefixLength)
        return IPSubnet(address: address, prefixLength: shorter) == IPSubnet(address: other.address, prefixLength: shorter)
    }

    var description: String { "\(Self.format(address))/\(prefixLength)" }

    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String {
        var buffer = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { address in
            buffer.withUnsafeMutableBufferPointer { text in
                text.withMemoryRebound(to: CChar.self) { inet_ntop(family, address.baseAddress, $0.baseAddress, socklen_t($0.count)) }
            }
        }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}
