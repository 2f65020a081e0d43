import Glibc

/// A user's subordinate ids from /etc/subuid or /etc/subgid (`NAME:START:COUNT` or
/// `UID:START:COUNT`, one range a line): the ids a rootless namespace may map besides
/// the user's own, through the setuid newuidmap and newgidmap.
public struct SubordinateIDs: Sendable, Equatable {
    public struct Range: Sendable, Equatable {
        public var start: UInt32
        public var count: UInt32
    }

    public var ranges: [Range]

    public var isEmpty: Bool { ranges.isEmpty }

    /// The ranges of the user named `name` or numbered `id` in `text`.
    public static func parse(_ text: String, name: String?, id: UInt32) -> SubordinateIDs {
        var ranges: [Range] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, String(fields[0]) == name || UInt32(fields[0]) == id,
                let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0
            else { continue }
            ranges.append(Range(start: start, count: count))
        }
        return SubordinateIDs(ranges: ranges)
    }

    /// The mappings of a rootless namespace: 0 is the user, then each range in order.
    public func mappings(hostID: UInt32) -> [IDMapping] {
        var result = [IDMapping(inside: 0, outside: hostID, count: 1)]
        var next: UInt32 = 1
        for range in ranges {
            result.append(IDMapping(inside: next, outside: range.start, count: range.count))
            next &+= range.count
        }
        return result
    }

    /// The name of the user `uid`, which the files usually list by name.
    public static func userName(_ uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let found = result, let name = found.pointee.pw_name
        else { return nil }
        return String(cString: name)
    }
}
