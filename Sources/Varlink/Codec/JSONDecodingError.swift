/// A JSON value did not have the shape its varlink type asks for.
///
/// The path names the bad field from the outside in (`create.env[2]`), which is what a
/// server returns as `InvalidParameter`'s `parameter` and what a person needs to fix it.
public struct JSONDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        case typeMismatch(expected: String, found: String)
        case missingField(expected: String)
        case unknownField
        case unknownEnumValue(String, allowed: [String])
    }

    public var reason: Reason
    /// Outermost component first.
    public var path: [JSONPathComponent]

    public init(_ reason: Reason, path: [JSONPathComponent] = []) {
        self.reason = reason
        self.path = path
    }

    /// The same error, seen from the container that holds the bad value.
    @inlinable
    public func within(_ component: JSONPathComponent) -> JSONDecodingError {
        var copy = self
        copy.path.insert(component, at: 0)
        return copy
    }

    /// `create.env[2]`; empty for the top-level value.
    public var dottedPath: String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    public var message: String {
        switch reason {
        case .typeMismatch(let expected, let found):
            "expected \(expected), got \(found)"
        case .missingField(let expected):
            "missing required field of type \(expected)"
        case .unknownField:
            "unknown field"
        case .unknownEnumValue(let value, let allowed):
            "unknown value \"\(value)\", expected one of \(allowed.joined(separator: ", "))"
        }
    }

    public var description: String {
        path.isEmpty ? message : "\(dottedPath): \(message)"
    }
}

public enum JSONPathComponent: Hashable, Sendable {
    case key(String)
    case index(Int)
}
