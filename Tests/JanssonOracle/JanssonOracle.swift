import CJansson

// scripts/fuzz compiles this file into the Varlink module itself.
#if !VARLINK_SINGLE_MODULE
import Varlink
#endif

/// jansson's reading of JSON text: the reference that Varlink's own parser is held to.
///
/// jansson is read with the flags a varlink peer needs (duplicate keys rejected, `\u0000`
/// allowed in strings). The tests and the JSON fuzzer require that both parsers accept
/// the same inputs and read the same values; the benchmarks time both.
public enum JanssonOracle {
    /// The value jansson reads from `bytes`, or nil when it rejects them.
    public static func value(of bytes: UnsafeRawBufferPointer, anyTopLevel: Bool) -> JSONValue? {
        guard let root = load(bytes, anyTopLevel: anyTopLevel) else { return nil }
        defer { cjansson_decref(root) }
        return convert(root)
    }

    public static func value(of bytes: [UInt8], anyTopLevel: Bool) -> JSONValue? {
        bytes.withUnsafeBytes { value(of: $0, anyTopLevel: anyTopLevel) }
    }

    /// Parses and frees, for timing jansson's parser alone. Returns whether it accepted.
    public static func parses(_ bytes: UnsafeRawBufferPointer, anyTopLevel: Bool = false) -> Bool {
        guard let root = load(bytes, anyTopLevel: anyTopLevel) else { return false }
        cjansson_decref(root)
        return true
    }

    private static func load(_ bytes: UnsafeRawBufferPointer, anyTopLevel: Bool) -> UnsafeMutablePointer<json_t>? {
        var error = json_error_t()
        var flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL
        if anyTopLevel { flags |= JSON_DECODE_ANY }
        guard let base = bytes.baseAddress else { return json_loadb("", 0, Int(flags), &error) }
        return json_loadb(base.assumingMemoryBound(to: CChar.self), bytes.count, Int(flags), &error)
    }

    private static func convert(_ node: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch json_type(UInt32(cjansson_typeof(node))) {
        case JSON_OBJECT:
            var members: [String: JSONValue] = [:]
            var iterator = json_object_iter(node)
            while let current = iterator {
                let count = json_object_iter_key_len(current)
                let key = json_object_iter_key(current)!.withMemoryRebound(to: UInt8.self, capacity: count) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
                }
                members[key] = convert(json_object_iter_value(current))
                iterator = json_object_iter_next(node, current)
            }
            return .object(members)
        case JSON_ARRAY:
            return .array((0..<json_array_size(node)).map { convert(json_array_get(node, $0)) })
        case JSON_STRING:
            let count = json_string_length(node)
            return .string(
                json_string_value(node)!.withMemoryRebound(to: UInt8.self, capacity: count) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
                }
            )
        case JSON_INTEGER: return .int(Int(json_integer_value(node)))
        case JSON_REAL: return .float(json_real_value(node))
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        default: return .null
        }
    }
}
