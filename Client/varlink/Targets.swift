import VarlinkNIO

/// Addresses as the tool accepts them: every varlink address, plus a bare socket path
/// (`/run/x.sock`, `./x.sock`) as varlinkctl allows.
enum AddressArgument {
    static func parse(_ text: String) throws -> VarlinkAddress {
        if text.hasPrefix("/") || text.hasPrefix("./") || text.hasPrefix("../") {
            return try VarlinkAddress("unix:" + text)
        }
        return try VarlinkAddress(text)
    }

    /// Whether `text` is meant as an address rather than an interface name: addresses
    /// have a scheme or are paths; interface names have neither ':' nor '/'.
    static func looksLikeAddress(_ text: String) -> Bool {
        text.contains(":") || text.contains("/")
    }
}

/// `[ADDRESS/]INTERFACE[.MEMBER]`: the address is everything before the last '/'.
struct QualifiedTarget {
    var address: String?
    /// `INTERFACE.MEMBER` or `INTERFACE`.
    var name: String

    init(_ text: String) {
        if let slash = text.lastIndex(of: "/") {
            address = String(text[..<slash])
            name = String(text[text.index(after: slash)...])
        } else {
            address = nil
            name = text
        }
    }

    /// Splits `name` into interface and member when its last component is a member name
    /// (members start with an upper-case letter; interface name parts never do).
    var interfaceAndMember: (interface: String, member: String?) {
        guard let dot = name.lastIndex(of: "."), name[name.index(after: dot)...].first?.isUppercase == true else {
            return (name, nil)
        }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }
}
