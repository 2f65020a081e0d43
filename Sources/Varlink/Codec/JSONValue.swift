/// Any JSON value: the Swift type of varlink's `any`, and of the values inside `object`
/// (which is `[String: JSONValue]`).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: VarlinkDecodable {
    /// Reads varlink's `any`, which admits every value but null (`?any` is the nullable form).
    public init(json: JSONNode) throws(JSONDecodingError) {
        guard !json.isNull else { throw JSONDecodingError(.typeMismatch(expected: "any", found: "null")) }
        self = try JSONValue(anyNode: json)
    }

    /// Reads any value, null included.
    public init(anyNode json: JSONNode) throws(JSONDecodingError) {
        switch json.kind {
        case .null: self = .null
        case .bool: self = .bool(try json.bool())
        case .int: self = .int(try json.int())
        case .float: self = .float(try json.double())
        case .string: self = .string(try json.string())
        case .array:
            var elements: [JSONValue] = []
            elements.reserveCapacity(try json.arrayCount())
            try json.forEachElement { (index, element) throws(JSONDecodingError) in
                do throws(JSONDecodingError) {
                    elements.append(try JSONValue(anyNode: element))
                } catch {
                    throw error.within(.index(index))
                }
            }
            self = .array(elements)
        case .object:
            var members: [String: JSONValue] = [:]
            try json.forEachMember { (key, value) throws(JSONDecodingError) in
                members[key] = try JSONValue(anyNode: value)
            }
            self = .object(members)
        }
    }

    public static var varlinkTypeName: String { "any" }
    public static var absentFieldValue: Self? { .null }

    /// Parses JSON text into a value (any top-level value is accepted).
    public init(parsing text: some Collection<UInt8>) throws(JSONSyntaxError) {
        let document = try JSONDocument(parsing: text, anyTopLevel: true)
        // Conversion of a parsed document cannot fail: every node kind has a case.
        self = withExtendedLifetime(document) { (try? JSONValue(anyNode: document.rootNode(mode: .lenient))) ?? .null }
    }

    public init(parsing text: String) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8))
    }
}

extension JSONValue: VarlinkEncodable {
    public func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        switch self {
        case .null: writer.null()
        case .bool(let value): writer.bool(value)
        case .int(let value): writer.int(value)
        case .float(let value): try writer.double(value)
        case .string(let value): writer.string(value)
        case .array(let elements):
            writer.beginArray()
            for element in elements { try element.encode(to: &writer) }
            writer.endArray()
        case .object(let members):
            writer.beginObject()
            // Sorted keys: the same value always encodes to the same bytes.
            for key in members.keys.sorted() {
                writer.key(key)
                try members[key]!.encode(to: &writer)
            }
            writer.endObject()
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// Compact JSON text.
    public var jsonText: String {
        // Values parsed from JSON hold no NaN; a hand-made one that does becomes null.
        String(decoding: (try? jsonBytes()) ?? Array("null".utf8), as: UTF8.self)
    }
}
