import PodlinkInterfaces
import Varlink

/// The server side of varlink certification: each client walks Start, Test01 ... Test11,
/// End in order, and every step checks that the client sent back exactly what the
/// previous step returned.
public struct CertificationService: OrgVarlinkCertification.ServiceProtocol {
    private let clients = ClientRegistry()

    public init() {}

    public func start(
        _ parameters: OrgVarlinkCertification.Methods.Start.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Start.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Start.Reply {
        .init(clientId: await clients.register())
    }

    public func test01(
        _ parameters: OrgVarlinkCertification.Methods.Test01.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test01.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test01.Reply {
        try await clients.advance(parameters.clientId, from: .started, to: .test01)
        return .init(bool: true)
    }

    public func test02(
        _ parameters: OrgVarlinkCertification.Methods.Test02.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test02.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test02.Reply {
        try await clients.advance(parameters.clientId, from: .test01, to: .test02)
        try expect(parameters.bool, equals: true, field: "bool")
        return .init(int: 1)
    }

    public func test03(
        _ parameters: OrgVarlinkCertification.Methods.Test03.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test03.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test03.Reply {
        try await clients.advance(parameters.clientId, from: .test02, to: .test03)
        try expect(parameters.int, equals: 1, field: "int")
        return .init(float: 1.0)
    }

    public func test04(
        _ parameters: OrgVarlinkCertification.Methods.Test04.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test04.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test04.Reply {
        try await clients.advance(parameters.clientId, from: .test03, to: .test04)
        try expect(parameters.float, equals: 1.0, field: "float")
        return .init(string: "ping")
    }

    public func test05(
        _ parameters: OrgVarlinkCertification.Methods.Test05.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test05.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test05.Reply {
        try await clients.advance(parameters.clientId, from: .test04, to: .test05)
        try expect(parameters.string, equals: "ping", field: "string")
        return CertificationValues.test05
    }

    public func test06(
        _ parameters: OrgVarlinkCertification.Methods.Test06.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test06.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test06.Reply {
        try await clients.advance(parameters.clientId, from: .test05, to: .test06)
        let expected = CertificationValues.test05
        let got = OrgVarlinkCertification.Methods.Test05.Reply(
            bool: parameters.bool,
            int: parameters.int,
            float: parameters.float,
            string: parameters.string
        )
        try expect(got, equals: expected, field: "parameters")
        return .init(struct: .init(bool: expected.bool, int: expected.int, float: expected.float, string: expected.string))
    }

    public func test07(
        _ parameters: OrgVarlinkCertification.Methods.Test07.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test07.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test07.Reply {
        try await clients.advance(parameters.clientId, from: .test06, to: .test07)
        let expected = CertificationValues.test05
        try expect(
            parameters.struct,
            equals: .init(bool: expected.bool, int: expected.int, float: expected.float, string: expected.string),
            field: "struct"
        )
        return .init(map: CertificationValues.map)
    }

    public func test08(
        _ parameters: OrgVarlinkCertification.Methods.Test08.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test08.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test08.Reply {
        try await clients.advance(parameters.clientId, from: .test07, to: .test08)
        try expect(parameters.map, equals: CertificationValues.map, field: "map")
        return .init(set: CertificationValues.set)
    }

    public func test09(
        _ parameters: OrgVarlinkCertification.Methods.Test09.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test09.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test09.Reply {
        try await clients.advance(parameters.clientId, from: .test08, to: .test09)
        try expect(parameters.set, equals: CertificationValues.set, field: "set")
        return .init(mytype: CertificationValues.myType)
    }

    public func test10(
        _ parameters: OrgVarlinkCertification.Methods.Test10.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test10.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test10.Reply {
        // Checked before the state advances, so a client that forgot `more` can retry.
        guard call.wantsMore else { throw VarlinkError.expectedMore }
        try await clients.advance(parameters.clientId, from: .test09, to: .test10)
        try expect(parameters.mytype, equals: CertificationValues.myType, field: "mytype")
        for number in 1..<CertificationValues.test10Replies.count {
            try await call.sendContinues(.init(string: CertificationValues.test10Replies[number - 1]))
        }
        return .init(string: CertificationValues.test10Replies.last!)
    }

    public func test11(
        _ parameters: OrgVarlinkCertification.Methods.Test11.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.Test11.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.Test11.Reply {
        guard call.isOneway else {
            throw OrgVarlinkCertification.CertificationError(
                wants: ["oneway": .bool(true)],
                got: ["oneway": .bool(false)]
            )
        }
        try await clients.advance(parameters.clientId, from: .test10, to: .test11)
        try expect(parameters.lastMoreReplies, equals: CertificationValues.test10Replies, field: "last_more_replies")
        return .init()
    }

    public func end(
        _ parameters: OrgVarlinkCertification.Methods.End.Parameters,
        call: VarlinkCall<OrgVarlinkCertification.Methods.End.Reply>
    ) async throws -> OrgVarlinkCertification.Methods.End.Reply {
        try await clients.advance(parameters.clientId, from: .test11, to: .ended)
        await clients.remove(parameters.clientId)
        return .init(allOk: true)
    }

    private func expect<T: VarlinkEncodable & Equatable>(_ got: T, equals wants: T, field: String) throws {
        guard got != wants else { return }
        throw OrgVarlinkCertification.CertificationError(wants: [field: Self.value(of: wants)], got: [field: Self.value(of: got)])
    }

    private static func value(of value: some VarlinkEncodable) -> JSONValue {
        guard let bytes = try? value.jsonBytes(), let parsed = try? JSONValue(parsing: bytes) else { return .null }
        return parsed
    }
}

/// Where each client is in the sequence. An actor: calls from many connections update it.
private actor ClientRegistry {
    enum Step: Int {
        case started, test01, test02, test03, test04, test05, test06, test07, test08, test09, test10, test11, ended
    }

    private var steps: [String: Step] = [:]
    private var counter: UInt64 = 0

    func register() -> String {
        counter += 1
        // Unique per server and hard to guess across servers: a counter plus randomness.
        let id = String(counter, radix: 16) + "-" + String(UInt64.random(in: .min ... .max), radix: 16)
        steps[id] = .started
        return id
    }

    func advance(_ id: String, from expected: Step, to next: Step) throws {
        guard let current = steps[id] else { throw OrgVarlinkCertification.ClientIdError() }
        guard current == expected else {
            throw OrgVarlinkCertification.CertificationError(
                wants: ["step": .int(expected.rawValue)],
                got: ["step": .int(current.rawValue)]
            )
        }
        steps[id] = next
    }

    func remove(_ id: String) {
        steps[id] = nil
    }
}
