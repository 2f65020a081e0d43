// libFuzzer entry: a varlink call as a server reads it, then its parameters decoded
// into a typed struct and into a JSON value, then a reply encoded. Compiled into the
// Varlink module by scripts/fuzz; nothing here may crash, whatever the bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessage(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let call = try? VarlinkIncomingCall(parsing: bytes) else { return 0 }
    _ = call.interface
    _ = call.member
    _ = try? call.decodeParameters(InterfaceDescriptionParameters.self)
    let value = call.parameterValue
    _ = try? VarlinkReplyEncoder.message(parameters: value, continues: call.flags.contains(.more))
    _ = try? VarlinkReply(parsing: bytes)
    return 0
}
