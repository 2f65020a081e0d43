import CJansson

/// A read-only view of one value inside a `JSONDocument`.
///
/// A node is a borrowed pointer into the document's tree: it is valid only while the
/// document is alive (generated code reads a message inside the scope that holds it).
/// It also carries the decoding mode: `strict` (a server reading calls: unknown fields
/// and unknown enum values are errors) or lenient (a client reading replies: they are
/// ignored or kept).
public struct JSONNode {
    @usableFromInline let pointer: UnsafeMutablePointer<json_t>
    public let strict: Bool

    @inlinable
    init(pointer: UnsafeMutablePointer<json_t>, strict: Bool) {
        self.pointer = pointer
        self.strict = strict
    }

    public enum Kind: String, Sendable {
        case object, array, string, int, float, bool, null

        /// How a value of this kind is named in messages ("expected string, got int").
        public var name: String { rawValue }
    }

    @inlinable
    public var kind: Kind {
        switch json_type(UInt32(cjansson_typeof(pointer))) {
        case JSON_OBJECT: .object
        case JSON_ARRAY: .array
        case JSON_STRING: .string
        case JSON_INTEGER: .int
        case JSON_REAL: .float
        case JSON_TRUE, JSON_FALSE: .bool
        default: .null
        }
    }

    @inlinable
    public var isNull: Bool { kind == .null }

    @inlinable
    func mismatch(_ expected: String) -> JSONDecodingError {
        JSONDecodingError(.typeMismatch(expected: expected, found: kind.name))
    }

    // MARK: Scalars

    @inlinable
    public func bool() throws(JSONDecodingError) -> Bool {
        switch json_type(UInt32(cjansson_typeof(pointer))) {
        case JSON_TRUE: return true
        case JSON_FALSE: return false
        default: throw mismatch("bool")
        }
    }

    /// An integer literal. A number with a fraction or exponent is not an `int`.
    @inlinable
    public func int() throws(JSONDecodingError) -> Int {
        guard kind == .int else { throw mismatch("int") }
        return Int(json_integer_value(pointer))
    }

    /// Any number: peers send integral floats as `1`.
    @inlinable
    public func double() throws(JSONDecodingError) -> Double {
        switch kind {
        case .float: return json_real_value(pointer)
        case .int: return Double(json_integer_value(pointer))
        default: throw mismatch("float")
        }
    }

    @inlinable
    public func string() throws(JSONDecodingError) -> String {
        guard kind == .string, let characters = json_string_value(pointer) else { throw mismatch("string") }
        let count = json_string_length(pointer)
        return characters.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }

    // MARK: Arrays

    @inlinable
    public func arrayCount() throws(JSONDecodingError) -> Int {
        guard kind == .array else { throw mismatch("array") }
        return json_array_size(pointer)
    }

    /// The element at `index`; `index` must be below `arrayCount()`.
    @inlinable
    public func element(_ index: Int) -> JSONNode {
        JSONNode(pointer: json_array_get(pointer, index), strict: strict)
    }

    // MARK: Objects

    /// Reads the fields of a struct: look fields up by name, then `finish` to catch
    /// unknown ones in strict mode.
    @inlinable
    public func structFields() throws(JSONDecodingError) -> StructReader {
        guard kind == .object else { throw mismatch("object") }
        return StructReader(node: self)
    }

    /// Calls `body` for every member of an object, in document order.
    @inlinable
    public func forEachMember(_ body: (String, JSONNode) throws(JSONDecodingError) -> Void) throws(JSONDecodingError) {
        guard kind == .object else { throw mismatch("object") }
        var iterator = json_object_iter(pointer)
        while let current = iterator {
            let keyCount = json_object_iter_key_len(current)
            let key = json_object_iter_key(current)!.withMemoryRebound(to: UInt8.self, capacity: keyCount) {
                String(decoding: UnsafeBufferPointer(start: $0, count: keyCount), as: UTF8.self)
            }
            let value = JSONNode(pointer: json_object_iter_value(current), strict: strict)
            do {
                try body(key, value)
            } catch {
                throw error.within(.key(key))
            }
            iterator = json_object_iter_next(pointer, current)
        }
    }

    @inlinable
    public func memberCount() throws(JSONDecodingError) -> Int {
        guard kind == .object else { throw mismatch("object") }
        return json_object_size(pointer)
    }

    @inlinable
    func member(_ key: StaticString) -> JSONNode? {
        let found = UnsafeRawPointer(key.utf8Start).withMemoryRebound(to: CChar.self, capacity: key.utf8CodeUnitCount) {
            json_object_get(pointer, $0)
        }
        return found.map { JSONNode(pointer: $0, strict: strict) }
    }

    /// The member named `key`, for keys that are not compile-time constants.
    public func member(named key: String) -> JSONNode? {
        guard kind == .object else { return nil }
        return json_object_getn(pointer, key, key.utf8.count).map { JSONNode(pointer: $0, strict: strict) }
    }
}

/// Reads a struct's fields by name and counts them, so that a strict reader can tell
/// whether the object held anything else without comparing every key twice.
public struct StructReader {
    @usableFromInline let node: JSONNode
    @usableFromInline var present = 0

    @inlinable
    init(node: JSONNode) {
        self.node = node
    }

    /// A field that must be present and not null.
    @inlinable
    public mutating func required<T: VarlinkDecodable>(_ key: StaticString, as type: T.Type = T.self)
        throws(JSONDecodingError) -> T
    {
        guard let value = node.member(key), !value.isNull else {
            throw JSONDecodingError(.missingField(expected: T.varlinkTypeName), path: [.key(key.description)])
        }
        present += 1
        do {
            return try T(json: value)
        } catch {
            throw error.within(.key(key.description))
        }
    }

    /// A `?T` field: absent and `null` both read as nil.
    @inlinable
    public mutating func optional<T: VarlinkDecodable>(_ key: StaticString, as type: T.Type = T.self)
        throws(JSONDecodingError) -> T?
    {
        guard let value = node.member(key) else { return nil }
        present += 1
        if value.isNull { return nil }
        do {
            return try T(json: value)
        } catch {
            throw error.within(.key(key.description))
        }
    }

    /// In strict mode, fails on the first member that is not one of `knownKeys`.
    @inlinable
    public func finish(knownKeys: [StaticString]) throws(JSONDecodingError) {
        guard node.strict, present != json_object_size(node.pointer) else { return }
        try node.forEachMember { (key, _) throws(JSONDecodingError) in
            guard knownKeys.contains(where: { $0.description == key }) else {
                throw JSONDecodingError(.unknownField)
            }
        }
    }
}
