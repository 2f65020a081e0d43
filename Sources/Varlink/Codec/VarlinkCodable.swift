/// A value that generated code can read from JSON. Every varlink type maps to one.
public protocol VarlinkDecodable: Sendable {
    init(json: JSONNode) throws(JSONDecodingError)
    /// The varlink name of the type, for messages ("expected []string, got object").
    static var varlinkTypeName: String { get }
    /// What an absent or null field of this type reads as in `goCompatible` mode: Go's
    /// zero value. nil (the default) keeps such a field an error in every mode.
    static var absentFieldValue: Self? { get }
}

extension VarlinkDecodable {
    public static var absentFieldValue: Self? { nil }

    /// This struct with every field absent, read as Go does: each field its zero value.
    /// Generated structs answer `absentFieldValue` with it.
    public static func zeroFilledStruct() -> Self? {
        try? JSONDocument.emptyObject.decode(Self.self, mode: .goCompatible)
    }
}

/// A value that generated code can write as JSON.
public protocol VarlinkEncodable: Sendable {
    func encode(to writer: inout JSONWriter) throws(JSONEncodingError)
}

public typealias VarlinkCodable = VarlinkDecodable & VarlinkEncodable

extension VarlinkEncodable {
    /// The compact JSON text of this value.
    public func jsonBytes() throws(JSONEncodingError) -> [UInt8] {
        var writer = JSONWriter()
        try encode(to: &writer)
        return writer.bytes
    }
}

// MARK: - Scalars

extension Bool: VarlinkCodable {
    @inlinable public init(json: JSONNode) throws(JSONDecodingError) { self = try json.bool() }
    @inlinable public func encode(to writer: inout JSONWriter) { writer.bool(self) }
    public static var varlinkTypeName: String { "bool" }
    public static var absentFieldValue: Self? { false }
}

extension Int: VarlinkCodable {
    @inlinable public init(json: JSONNode) throws(JSONDecodingError) { self = try json.int() }
    @inlinable public func encode(to writer: inout JSONWriter) { writer.int(self) }
    public static var varlinkTypeName: String { "int" }
    public static var absentFieldValue: Self? { 0 }
}

extension Double: VarlinkCodable {
    @inlinable public init(json: JSONNode) throws(JSONDecodingError) { self = try json.double() }
    @inlinable public func encode(to writer: inout JSONWriter) throws(JSONEncodingError) { try writer.double(self) }
    public static var varlinkTypeName: String { "float" }
    public static var absentFieldValue: Self? { 0 }
}

extension String: VarlinkCodable {
    @inlinable public init(json: JSONNode) throws(JSONDecodingError) { self = try json.string() }
    @inlinable public func encode(to writer: inout JSONWriter) { writer.string(self) }
    public static var varlinkTypeName: String { "string" }
    public static var absentFieldValue: Self? { "" }
}

// MARK: - Containers

/// `?T` nested inside a container (`[]?string`): the element may be null.
extension Optional: VarlinkDecodable where Wrapped: VarlinkDecodable {
    @inlinable
    public init(json: JSONNode) throws(JSONDecodingError) {
        self = json.isNull ? nil : try Wrapped(json: json)
    }
    public static var varlinkTypeName: String { "?" + Wrapped.varlinkTypeName }
}

extension Optional: VarlinkEncodable where Wrapped: VarlinkEncodable {
    @inlinable
    public func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        if let value = self { try value.encode(to: &writer) } else { writer.null() }
    }
}

extension Array: VarlinkDecodable where Element: VarlinkDecodable {
    @inlinable
    public init(json: JSONNode) throws(JSONDecodingError) {
        var elements: [Element] = []
        elements.reserveCapacity(try json.arrayCount())
        try json.forEachElement { (index, element) throws(JSONDecodingError) in
            do throws(JSONDecodingError) {
                elements.append(try Element(json: element))
            } catch {
                throw error.within(.index(index))
            }
        }
        self = elements
    }
    public static var varlinkTypeName: String { "[]" + Element.varlinkTypeName }
    public static var absentFieldValue: Self? { [] }
}

extension Array: VarlinkEncodable where Element: VarlinkEncodable {
    @inlinable
    public func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        writer.beginArray()
        for element in self { try element.encode(to: &writer) }
        writer.endArray()
    }
}

/// `[string]T`. Also the Swift type of `object`, as `[String: JSONValue]`.
extension Dictionary: VarlinkDecodable where Key == String, Value: VarlinkDecodable {
    @inlinable
    public init(json: JSONNode) throws(JSONDecodingError) {
        var result: [String: Value] = [:]
        result.reserveCapacity(try json.memberCount())
        // `object` is `[String: JSONValue]` and its members may be null, which `any`
        // (JSONValue's own init) refuses. The check folds away when specialised.
        let nullMembersAllowed = Value.self == JSONValue.self
        try json.forEachMember { (key, value) throws(JSONDecodingError) in
            if nullMembersAllowed && value.isNull {
                result[key] = (JSONValue.null as! Value)
            } else {
                result[key] = try Value(json: value)
            }
        }
        self = result
    }
    public static var varlinkTypeName: String { "[string]" + Value.varlinkTypeName }
    public static var absentFieldValue: Self? { [:] }
}

extension Dictionary: VarlinkEncodable where Key == String, Value: VarlinkEncodable {
    @inlinable
    public func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        writer.beginObject()
        for (key, value) in self {
            writer.key(key)
            try value.encode(to: &writer)
        }
        writer.endObject()
    }
}

/// `[string]()`, varlink's set of strings: `{"one":{},"two":{}}`.
extension Set: VarlinkDecodable where Element == String {
    @inlinable
    public init(json: JSONNode) throws(JSONDecodingError) {
        var result = Set<String>()
        try json.forEachMember { (key, value) throws(JSONDecodingError) in
            // The value is the empty struct; a strict reader insists on that.
            let count = try value.memberCount()
            if json.strict && count != 0 {
                throw JSONDecodingError(.typeMismatch(expected: "()", found: "object with \(count) fields"))
            }
            result.insert(key)
        }
        self = result
    }
    public static var varlinkTypeName: String { "[string]()" }
    public static var absentFieldValue: Self? { [] }
}

extension Set: VarlinkEncodable where Element == String {
    @inlinable
    public func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        // Sorted so that the same set always produces the same bytes.
        for key in self.sorted() {
            writer.key(key)
            writer.beginObject()
            writer.endObject()
        }
        writer.endObject()
    }
}

/// The empty struct `()`, as a method's empty input or output.
public struct VarlinkEmpty: VarlinkCodable, Hashable {
    public init() {}

    @inlinable
    public init(json: JSONNode) throws(JSONDecodingError) {
        // Absent, null and {} parameters are all the same thing on the wire.
        if json.isNull { return }
        let fields = try json.structFields()
        try fields.finish(knownKeys: [])
    }

    @inlinable
    public func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.endObject()
    }

    public static var varlinkTypeName: String { "()" }
    public static var absentFieldValue: Self? { VarlinkEmpty() }
}
