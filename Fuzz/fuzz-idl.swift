// libFuzzer entry: the IDL parser, resolver and formatter. What parses must format, and
// the canonical text must parse to the same canonical text. Compiled into the
// VarlinkIDL module by scripts/fuzz.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDL(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let interface = try? InterfaceDefinition.parse(source, fileName: "fuzz.varlink") else { return 0 }
    let canonical = interface.canonicalDescription
    guard let again = try? InterfaceDefinition.parse(canonical, fileName: "canonical.varlink") else {
        fatalError("canonical text does not parse:\n\(canonical)")
    }
    precondition(again.canonicalDescription == canonical, "formatting is not idempotent")
    return 0
}
