// libFuzzer entry: the JSON codec. Whatever parses must encode, and the encoding must
// parse back to the same value. Compiled into the Varlink module by scripts/fuzz.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONValue(parsing: bytes) else { return 0 }
    var writer = JSONWriter()
    guard (try? value.encode(to: &writer)) != nil else { return 0 }
    guard let again = try? JSONValue(parsing: writer.bytes) else {
        fatalError("the encoding of a parsed value does not parse: \(String(decoding: writer.bytes, as: UTF8.self))")
    }
    precondition(again == value, "a value changed in a round trip")
    return 0
}
