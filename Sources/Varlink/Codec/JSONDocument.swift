/// A parsed JSON document: the input's bytes and a tape of its values (see `JSONTape`).
///
/// The parser is strict about what varlink requires: UTF-8 input, no duplicate keys,
/// nesting bounded (`JSONDocument.maximumDepth`), nothing after the value. `\u0000`
/// inside strings is allowed (it is valid JSON and never a frame boundary).
///
/// The document is never mutated after parsing, so reading it from several tasks is safe;
/// the only release happens in `deinit`.
public final class JSONDocument: @unchecked Sendable {
    /// The deepest nesting of arrays and objects a document may have.
    public static var maximumDepth: Int { JSONParser.maximumDepth }

    @usableFromInline let entries: UnsafeMutableBufferPointer<JSONTapeEntry>
    /// The input's bytes: strings without escapes point here.
    @usableFromInline let text: UnsafeMutableBufferPointer<UInt8>
    /// Unescaped strings; nil when no string had escapes.
    @usableFromInline let side: UnsafeMutableBufferPointer<UInt8>?

    /// Parses `bytes`. With `anyTopLevel` false (varlink messages) the value must be an
    /// object or an array; with true, any JSON value is accepted.
    public convenience init(parsing bytes: UnsafeRawBufferPointer, anyTopLevel: Bool = false) throws(JSONSyntaxError) {
        self.init(try Self.parse(bytes, anyTopLevel: anyTopLevel).get())
    }

    public convenience init(parsing bytes: some Collection<UInt8>, anyTopLevel: Bool = false) throws(JSONSyntaxError) {
        let parsed =
            bytes.withContiguousStorageIfAvailable { Self.parse(UnsafeRawBufferPointer($0), anyTopLevel: anyTopLevel) }
            ?? Array(bytes).withUnsafeBytes { Self.parse($0, anyTopLevel: anyTopLevel) }
        self.init(try parsed.get())
    }

    public convenience init(parsing text: String, anyTopLevel: Bool = false) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8), anyTopLevel: anyTopLevel)
    }

    private init(_ storage: Storage) {
        entries = storage.entries
        text = storage.text
        side = storage.side
    }

    private struct Storage {
        var entries: UnsafeMutableBufferPointer<JSONTapeEntry>
        var text: UnsafeMutableBufferPointer<UInt8>
        var side: UnsafeMutableBufferPointer<UInt8>?
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, anyTopLevel: Bool) -> Result<Storage, JSONSyntaxError> {
        // The document outlives the caller's buffer (a call keeps its parameters until its
        // handler reads them), so it parses its own copy.
        let text = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        if let base = bytes.baseAddress {
            text.baseAddress!.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        }
        var parser = JSONParser(UnsafePointer(text.baseAddress!), count: bytes.count)
        do {
            let parsed = try parser.parse(anyTopLevel: anyTopLevel)
            return .success(Storage(entries: parsed.entries, text: text, side: parsed.side))
        } catch {
            text.deallocate()
            return .failure(error)
        }
    }

    deinit {
        entries.deallocate()
        text.deallocate()
        side?.deallocate()
    }

    /// The top-level value. It is valid only while this document is alive: keep the
    /// document referenced for as long as the node (or anything read from it) is in use.
    @inlinable
    public func rootNode(mode: JSONDecodingMode) -> JSONNode {
        JSONNode(document: self, index: 0, mode: mode)
    }

    /// Decodes the top-level value as `T`.
    @inlinable
    public func decode<T: VarlinkDecodable>(_ type: T.Type = T.self, mode: JSONDecodingMode) throws(JSONDecodingError) -> T {
        try withExtendedLifetime(self) { () throws(JSONDecodingError) -> T in
            try T(json: rootNode(mode: mode))
        }
    }
}

/// The input is not valid JSON (or not acceptable JSON: duplicate keys, too deep, not UTF-8).
public struct JSONSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    public var position: Int

    public init(message: String, line: Int, column: Int, position: Int) {
        self.message = message
        self.line = line
        self.column = column
        self.position = position
    }

    public var description: String {
        "invalid JSON at line \(line), column \(column) (byte \(position)): \(message)"
    }
}
