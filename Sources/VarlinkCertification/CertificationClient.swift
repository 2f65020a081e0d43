import PodlinkInterfaces
import Varlink

/// The client side of varlink certification: runs Start ... End against a server and
/// reports each step, stopping at the first that fails.
public struct CertificationClient: Sendable {
    public struct StepFailure: Error, CustomStringConvertible {
        public var step: String
        public var underlying: any Error
        public var description: String { "\(step) failed: \(underlying)" }
    }

    private let client: OrgVarlinkCertification.Client

    public init(transport: any VarlinkClientTransport) {
        client = OrgVarlinkCertification.Client(transport: transport)
    }

    /// Runs the sequence; `log` receives one line per step.
    public func run(log: (String) -> Void = { _ in }) async throws(StepFailure) {
        let clientId = try await step("Start", log) { try await client.start().clientId }
        let bool = try await step("Test01", log) { try await client.test01(clientId: clientId).bool }
        let int = try await step("Test02", log) { try await client.test02(clientId: clientId, bool: bool).int }
        let float = try await step("Test03", log) { try await client.test03(clientId: clientId, int: int).float }
        let string = try await step("Test04", log) { try await client.test04(clientId: clientId, float: float).string }
        let five = try await step("Test05", log) { try await client.test05(clientId: clientId, string: string) }
        let six = try await step("Test06", log) {
            try await client.test06(
                clientId: clientId,
                bool: five.bool,
                int: five.int,
                float: five.float,
                string: five.string
            ).struct
        }
        let map = try await step("Test07", log) {
            try await client.test07(
                clientId: clientId,
                struct: .init(bool: six.bool, int: six.int, float: six.float, string: six.string)
            ).map
        }
        let set = try await step("Test08", log) { try await client.test08(clientId: clientId, map: map).set }
        let myType = try await step("Test09", log) { try await client.test09(clientId: clientId, set: set).mytype }
        let replies = try await step("Test10", log) {
            var replies: [String] = []
            for try await reply in client.stream(
                OrgVarlinkCertification.Methods.Test10.self,
                .init(clientId: clientId, mytype: myType)
            ) {
                replies.append(reply.string)
            }
            return replies
        }
        try await step("Test11", log) {
            try await client.oneway(
                OrgVarlinkCertification.Methods.Test11.self,
                .init(clientId: clientId, lastMoreReplies: replies)
            )
        }
        let allOk = try await step("End", log) { try await client.end(clientId: clientId).allOk }
        guard allOk else {
            throw StepFailure(step: "End", underlying: VarlinkError(name: "all_ok is false"))
        }
    }

    private func step<T: Sendable>(
        _ name: String,
        _ log: (String) -> Void,
        _ body: () async throws -> T
    ) async throws(StepFailure) -> T {
        do {
            let result = try await body()
            log("\(name): \(result)")
            return result
        } catch {
            throw StepFailure(step: name, underlying: error)
        }
    }
}
