/// A read-only view of one value inside a `JSONDocument`.
///
/// A node is an index into the document's tape and does not keep the document alive
/// (that would cost a reference count per field read): it is valid only while the
/// document is, and generated code reads a message inside the scope that holds it.
/// It also carries the decoding mode (`JSONDecodingMode`), which every node read from
/// it inherits.
public struct JSONNode {
    @usableFromInline unowned(unsafe) let document: JSONDocument
    @usableFromInline let index: Int
    public let mode: JSONDecodingMode

    @inlinable
    init(document: JSONDocument, index: Int, mode: JSONDecodingMode) {
        self.document = document
        self.index = index
        self.mode = mode
    }

    /// Unknown fields and unknown enum values are errors.
    @inlinable
    public var strict: Bool { mode == .strict }

    /// The same value, read under another mode.
    @inlinable
    public func reading(as mode: JSONDecodingMode) -> JSONNode {
        JSONNode(document: document, index: index, mode: mode)
    }

    public enum Kind: String, Sendable {
        case object, array, string, int, float, bool, null

        /// How a value of this kind is named in messages ("expected string, got int").
        public var name: String { rawValue }
    }

    @inlinable
    var entry: JSONTapeEntry { document.entries[index] }

    @inlinable
    public var kind: Kind {
        switch entry.tag {
        case .object: .object
        case .array: .array
        case .string, .escapedString: .string
        case .int: .int
        case .float: .float
        case .true, .false: .bool
        case .null: .null
        }
    }

    @inlinable
    public var isNull: Bool { entry.tag == .null }

    @inlinable
    func mismatch(_ expected: String) -> JSONDecodingError {
        JSONDecodingError(.typeMismatch(expected: expected, found: kind.name))
    }

    /// The node that follows this value and everything inside it.
    @inlinable
    func nextIndex(after index: Int) -> Int {
        let value = document.entries[index]
        return value.tag == .array || value.tag == .object ? Int(value.payload) : index + 1
    }

    // MARK: Scalars

    @inlinable
    public func bool() throws(JSONDecodingError) -> Bool {
        switch entry.tag {
        case .true: return true
        case .false: return false
        default: throw mismatch("bool")
        }
    }

    /// An integer literal. A number with a fraction or exponent is not an `int`.
    @inlinable
    public func int() throws(JSONDecodingError) -> Int {
        let entry = self.entry
        guard entry.tag == .int else { throw mismatch("int") }
        return Int(Int64(bitPattern: entry.payload))
    }

    /// Any number: peers send integral floats as `1`.
    @inlinable
    public func double() throws(JSONDecodingError) -> Double {
        let entry = self.entry
        switch entry.tag {
        case .float: return Double(bitPattern: entry.payload)
        case .int: return Double(Int64(bitPattern: entry.payload))
        default: throw mismatch("float")
        }
    }

    @inlinable
    public func string() throws(JSONDecodingError) -> String {
        guard let bytes = stringBytes(entry) else { throw mismatch("string") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of a string entry (already checked to be UTF-8), nil for other kinds.
    @inlinable
    func stringBytes(_ entry: JSONTapeEntry) -> UnsafeBufferPointer<UInt8>? {
        let base: UnsafeMutablePointer<UInt8>
        switch entry.tag {
        case .string: base = document.text.baseAddress.unsafelyUnwrapped
        case .escapedString: base = document.side.unsafelyUnwrapped.baseAddress.unsafelyUnwrapped
        default: return nil
        }
        return UnsafeBufferPointer(start: base + Int(entry.payload), count: Int(entry.count))
    }

    // MARK: Arrays

    @inlinable
    public func arrayCount() throws(JSONDecodingError) -> Int {
        let entry = self.entry
        guard entry.tag == .array else { throw mismatch("array") }
        return Int(entry.count)
    }

    /// Calls `body` with each element and its index, in order.
    @inlinable
    public func forEachElement(_ body: (Int, JSONNode) throws(JSONDecodingError) -> Void) throws(JSONDecodingError) {
        let count = try arrayCount()
        var current = index + 1
        for position in 0..<count {
            try body(position, JSONNode(document: document, index: current, mode: mode))
            current = nextIndex(after: current)
        }
    }

    /// The element at `index`, which must be below `arrayCount()`. This walks the elements
    /// before it; read a whole array with `forEachElement`.
    @inlinable
    public func element(_ index: Int) -> JSONNode {
        precondition(entry.tag == .array && index >= 0 && index < Int(entry.count), "element \(index) is not in the array")
        var current = self.index + 1
        for _ in 0..<index { current = nextIndex(after: current) }
        return JSONNode(document: document, index: current, mode: mode)
    }

    // MARK: Objects

    /// Reads the fields of a struct: look fields up by name, then `finish` to catch
    /// unknown ones in strict mode.
    @inlinable
    public func structFields() throws(JSONDecodingError) -> StructReader {
        guard entry.tag == .object else { throw mismatch("object") }
        return StructReader(node: self)
    }

    /// Calls `body` for every member of an object, in document order.
    @inlinable
    public func forEachMember(_ body: (String, JSONNode) throws(JSONDecodingError) -> Void) throws(JSONDecodingError) {
        let count = try memberCount()
        var key = index + 1
        for _ in 0..<count {
            let name = String(decoding: stringBytes(document.entries[key]).unsafelyUnwrapped, as: UTF8.self)
            do {
                try body(name, JSONNode(document: document, index: key + 1, mode: mode))
            } catch {
                throw error.within(.key(name))
            }
            key = nextIndex(after: key + 1)
        }
    }

    @inlinable
    public func memberCount() throws(JSONDecodingError) -> Int {
        let entry = self.entry
        guard entry.tag == .object else { throw mismatch("object") }
        return Int(entry.count)
    }

    /// Whether the key entry at `key` is `name`.
    @inlinable
    func keyMatches(_ key: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let bytes = stringBytes(document.entries[key]).unsafelyUnwrapped
        return bytes.count == name.count
            && (name.count == 0 || jsonBytesEqual(bytes.baseAddress!, name.baseAddress!, count: name.count))
    }

    /// The member named `key`, for keys that are not compile-time constants.
    public func member(named key: String) -> JSONNode? {
        guard entry.tag == .object else { return nil }
        var key = key
        return key.withUTF8 { name in
            var current = index + 1
            for _ in 0..<Int(entry.count) {
                if keyMatches(current, name) { return JSONNode(document: document, index: current + 1, mode: mode) }
                current = nextIndex(after: current + 1)
            }
            return nil
        }
    }
}

/// Reads a struct's fields by name and counts them, so that a strict reader can tell
/// whether the object held anything else without comparing every key twice.
///
/// Lookups start where the previous one ended: encoders write fields in declaration
/// order, which is the order generated code reads them, so each lookup usually matches
/// the first key it tries.
public struct StructReader {
    @usableFromInline let node: JSONNode
    @usableFromInline var present = 0
    /// The key entry the next lookup tries first.
    @usableFromInline var cursor: Int

    @inlinable
    init(node: JSONNode) {
        self.node = node
        cursor = node.index + 1
    }

    @inlinable
    mutating func member(_ key: StaticString) -> JSONNode? {
        let object = node.entry
        let end = Int(object.payload)
        let name = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var current = cursor
        for _ in 0..<Int(object.count) {
            if current == end { current = node.index + 1 }
            let value = current + 1
            if node.keyMatches(current, name) {
                cursor = node.nextIndex(after: value)
                return JSONNode(document: node.document, index: value, mode: node.mode)
            }
            current = node.nextIndex(after: value)
        }
        return nil
    }

    /// A field that must be present and not null; in `goCompatible` mode an absent or
    /// null field is the type's zero value instead (`absentFieldValue`).
    @inlinable
    public mutating func required<T: VarlinkDecodable>(_ key: StaticString, as type: T.Type = T.self)
        throws(JSONDecodingError) -> T
    {
        guard let value = member(key), !value.isNull else {
            if node.mode == .goCompatible, let zero = T.absentFieldValue { return zero }
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
        guard let value = member(key) else { return nil }
        present += 1
        if value.isNull { return nil }
        do {
            return try T(json: value)
        } catch {
            throw error.within(.key(key.description))
        }
    }

    /// In strict mode, fails on the first member that is not one of `knownKeys`; the
    /// other modes ignore unknown members.
    @inlinable
    public func finish(knownKeys: [StaticString]) throws(JSONDecodingError) {
        guard node.strict, present != Int(node.entry.count) else { return }
        try node.forEachMember { (key, _) throws(JSONDecodingError) in
            guard knownKeys.contains(where: { $0.description == key }) else {
                throw JSONDecodingError(.unknownField)
            }
        }
    }
}

/// How a reader treats what the type it decodes does not expect.
public enum JSONDecodingMode: UInt8, Sendable, Hashable {
    /// A server reading calls, as UAPI.20 asks: unknown fields and unknown enum values
    /// are errors, and so is an absent or null field that is not optional.
    case strict
    /// A client reading replies: unknown fields are ignored and unknown enum values are
    /// kept, so a newer service can add both; an absent field that is not optional is
    /// still an error.
    case lenient
    /// What Go's varlink does, and what clients written against a Go service rely on:
    /// lenient, and an absent or null field takes its type's zero value ("", 0, false,
    /// [], an empty map, a struct of zero values) instead of failing. A value of the
    /// wrong type is an error in every mode.
    case goCompatible
}
