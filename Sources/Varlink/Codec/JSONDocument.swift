import CJansson

/// A parsed JSON document, held as jansson's tree.
///
/// The parser is strict about what varlink requires: UTF-8 input, no duplicate keys,
/// nesting bounded by jansson's parser depth limit, nothing after the value. `\u0000`
/// inside strings is allowed (it is valid JSON and never a frame boundary).
///
/// The tree is never mutated after parsing, so reading it from several tasks is safe;
/// the only release happens in `deinit`.
public final class JSONDocument: @unchecked Sendable {
    @usableFromInline let root: UnsafeMutablePointer<json_t>

    /// Parses `bytes`. With `anyTopLevel` false (varlink messages) the value must be an
    /// object or an array; with true, any JSON value is accepted.
    public convenience init(parsing bytes: UnsafeRawBufferPointer, anyTopLevel: Bool = false) throws(JSONSyntaxError) {
        self.init(adopting: try Self.load(bytes, anyTopLevel: anyTopLevel).get())
    }

    public convenience init(parsing bytes: some Collection<UInt8>, anyTopLevel: Bool = false) throws(JSONSyntaxError) {
        let loaded =
            bytes.withContiguousStorageIfAvailable { Self.load(UnsafeRawBufferPointer($0), anyTopLevel: anyTopLevel) }
            ?? Array(bytes).withUnsafeBytes { Self.load($0, anyTopLevel: anyTopLevel) }
        self.init(adopting: try loaded.get())
    }

    public convenience init(parsing text: String, anyTopLevel: Bool = false) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8), anyTopLevel: anyTopLevel)
    }

    private init(adopting root: UnsafeMutablePointer<json_t>) {
        self.root = root
    }

    private static func load(_ bytes: UnsafeRawBufferPointer, anyTopLevel: Bool)
        -> Result<UnsafeMutablePointer<json_t>, JSONSyntaxError>
    {
        var error = json_error_t()
        var flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL
        if anyTopLevel { flags |= JSON_DECODE_ANY }
        // jansson reads from a pointer and a length; an empty buffer still needs a valid pointer.
        let parsed: UnsafeMutablePointer<json_t>? =
            if let base = bytes.baseAddress {
                json_loadb(base.assumingMemoryBound(to: CChar.self), bytes.count, Int(flags), &error)
            } else {
                json_loadb("", 0, Int(flags), &error)
            }
        guard let parsed else { return .failure(JSONSyntaxError(error)) }
        return .success(parsed)
    }

    deinit {
        cjansson_decref(root)
    }

    /// The top-level value. It is valid only while this document is alive: keep the
    /// document referenced for as long as the node (or anything read from it) is in use.
    @inlinable
    public func rootNode(strict: Bool) -> JSONNode {
        JSONNode(pointer: root, strict: strict)
    }

    /// Decodes the top-level value as `T`.
    @inlinable
    public func decode<T: VarlinkDecodable>(_ type: T.Type = T.self, strict: Bool) throws(JSONDecodingError) -> T {
        try withExtendedLifetime(self) { () throws(JSONDecodingError) -> T in
            try T(json: rootNode(strict: strict))
        }
    }
}

/// The input is not valid JSON (or not acceptable JSON: duplicate keys, too deep, not UTF-8).
public struct JSONSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    public var position: Int

    init(_ error: json_error_t) {
        var error = error
        message = withUnsafeBytes(of: &error.text) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        line = Int(error.line)
        column = Int(error.column)
        position = Int(error.position)
    }

    public var description: String {
        "invalid JSON at line \(line), column \(column) (byte \(position)): \(message)"
    }
}
