import JanssonOracle
import Varlink

// Small helpers shared by the Varlink test suites.

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Parses `text` as any JSON value (scalars included) and decodes it as `T`.
func decode<T: VarlinkDecodable>(_ type: T.Type, _ text: String, mode: JSONDecodingMode = .strict) throws -> T {
    let document = try JSONDocument(parsing: text, anyTopLevel: true)
    return try document.decode(T.self, mode: mode)
}

/// The decoding error `text` produces as `T`, or nil when it decodes (syntax errors trap the test).
func decodingError<T: VarlinkDecodable>(_ type: T.Type, _ text: String, mode: JSONDecodingMode = .strict) throws -> JSONDecodingError? {
    let document = try JSONDocument(parsing: text, anyTopLevel: true)
    do {
        _ = try document.decode(T.self, mode: mode)
        return nil
    } catch {
        return error
    }
}

/// The syntax error for `bytes`, or nil when they parse.
func syntaxError(_ bytes: [UInt8], anyTopLevel: Bool = false) -> JSONSyntaxError? {
    do {
        _ = try JSONDocument(parsing: bytes, anyTopLevel: anyTopLevel)
        return nil
    } catch {
        return error
    }
}

func syntaxError(_ text: String, anyTopLevel: Bool = false) -> JSONSyntaxError? {
    syntaxError(utf8(text), anyTopLevel: anyTopLevel)
}

/// The compact JSON text the writer produces for `value`.
func jsonText(_ value: some VarlinkEncodable) throws -> String {
    String(decoding: try value.jsonBytes(), as: UTF8.self)
}

/// `depth` nested arrays around nothing: `[[[...]]]`.
func nestedArrays(_ depth: Int) -> [UInt8] {
    [UInt8](repeating: UInt8(ascii: "["), count: depth) + [UInt8](repeating: UInt8(ascii: "]"), count: depth)
}

/// `depth` nested objects: `{"a":{"a":...{}}}`.
func nestedObjects(_ depth: Int) -> [UInt8] {
    Array(String(repeating: #"{"a":"#, count: depth - 1).utf8) + utf8("{}")
        + [UInt8](repeating: UInt8(ascii: "}"), count: depth - 1)
}

/// A deterministic generator (SplitMix64), so that randomised tests replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How Varlink's parser and jansson (the reference) disagree on `input`, or nil when they
/// agree: both reject it, or both accept it and read the same value.
func disagreementWithJansson(_ input: [UInt8], anyTopLevel: Bool) -> String? {
    let reference = JanssonOracle.value(of: input, anyTopLevel: anyTopLevel)
    let ours: Result<JSONValue, JSONSyntaxError>
    do {
        let document = try JSONDocument(parsing: input, anyTopLevel: anyTopLevel)
        // Every parsed node has a JSONValue case, so the conversion cannot fail.
        ours = .success(withExtendedLifetime(document) { (try? JSONValue(anyNode: document.rootNode(mode: .lenient))) ?? .null })
    } catch {
        ours = .failure(error)
    }
    switch (ours, reference) {
    case (.failure, nil):
        return nil
    case (.success(let value), let expected?):
        return value == expected ? nil : "read \(value), jansson reads \(expected)"
    case (.success(let value), nil):
        return "accepted (as \(value)) what jansson rejects"
    case (.failure(let error), let expected?):
        // jansson's one known leniency: a raw NUL byte right after a number or a literal
        // is dropped by its lexer's look-ahead (`[1\0]` reads as `[1]`). It is not JSON,
        // and varlink frames end at NUL, so ours rejects it; the rest must still agree.
        if input.contains(0), disagreementWithJansson(input.filter { $0 != 0 }, anyTopLevel: anyTopLevel) == nil {
            return nil
        }
        return "rejected (\(error)) what jansson reads as \(expected)"
    }
}
