// libFuzzer entry: the JSON codec. The parser must agree with jansson (the reference,
// compiled in from Tests/JanssonOracle), whatever parses must encode, and the encoding
// must parse back to the same value. Compiled into the Varlink module by scripts/fuzz.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let value = try? JSONValue(parsing: bytes)
    let reference = JanssonOracle.value(of: UnsafeRawBufferPointer(bytes), anyTopLevel: true)
    if value != reference {
        // jansson's one known leniency: it drops a raw NUL after a number or a literal.
        let withoutNUL = bytes.filter { $0 != 0 }
        guard withoutNUL.count != size, value == nil,
            (try? JSONValue(parsing: withoutNUL)) == reference
        else {
            fatalError("the parser read \(String(describing: value)), jansson \(String(describing: reference))")
        }
    }
    guard let value else { return 0 }
    var writer = JSONWriter()
    guard (try? value.encode(to: &writer)) != nil else { return 0 }
    guard let again = try? JSONValue(parsing: writer.bytes) else {
        fatalError("the encoding of a parsed value does not parse: \(String(decoding: writer.bytes, as: UTF8.self))")
    }
    precondition(again == value, "a value changed in a round trip")
    return 0
}
