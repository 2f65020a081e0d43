import Varlink
import VarlinkIDL
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// Shell completion of addresses (socket files under `unix:`), and of interface and
/// member names asked of a live service. argument-parser runs these closures when the
/// generated bash, zsh or fish script calls the tool back; the shell filters the
/// candidates by what has been typed.
enum Completion {
    /// `ADDRESS`: schemes, then directories and sockets under `unix:`.
    @Sendable static func address(_ words: [String], _ index: Int, _ prefix: String) async -> [String] {
        addresses(prefix, socketSuffix: "")
    }

    /// `ADDRESS/INTERFACE.METHOD` for call: every method of the service once an address
    /// and '/' are typed.
    @Sendable static func methodTarget(_ words: [String], _ index: Int, _ prefix: String) async -> [String] {
        await members(prefix, methodsOnly: true)
    }

    /// `ADDRESS/INTERFACE[.MEMBER]` for help: interfaces and all their members.
    @Sendable static func memberTarget(_ words: [String], _ index: Int, _ prefix: String) async -> [String] {
        await members(prefix, methodsOnly: false)
    }

    /// An interface of the service whose address is among the words already typed.
    @Sendable static func interfaceName(_ words: [String], _ index: Int, _ prefix: String) async -> [String] {
        for word in words.dropFirst() where AddressArgument.looksLikeAddress(word) {
            guard let address = try? AddressArgument.parse(word) else { continue }
            return (try? await withService(address) { try await $0.info().interfaces }) ?? []
        }
        return []
    }

    private static func members(_ prefix: String, methodsOnly: Bool) async -> [String] {
        let split = QualifiedTarget(prefix)
        guard let addressText = split.address, let address = try? AddressArgument.parse(addressText), reachable(address)
        else { return addresses(prefix, socketSuffix: "/") }
        let names =
            try? await withService(address) { client in
                var names: [String] = []
                for interface in try await client.info().interfaces {
                    if !methodsOnly { names.append(interface) }
                    let description = try await client.interfaceDescription(interface)
                    guard let parsed = try? InterfaceDefinition.parse(description) else { continue }
                    let members = methodsOnly ? parsed.methods.map(\.name) : parsed.members.map(\.name)
                    names += members.map { "\(interface).\($0)" }
                }
                return names
            }
        return (names ?? []).map { "\(addressText)/\($0)" }
    }

    /// Whether a unix socket file exists (other kinds are tried).
    private static func reachable(_ address: VarlinkAddress) -> Bool {
        guard case .unix(let path, _) = address else { return true }
        return Files.type(path) == S_IFSOCK
    }

    private static func withService<T: Sendable>(
        _ address: VarlinkAddress,
        _ body: (VarlinkClient) async throws -> T
    ) async throws -> T {
        let connection = try await VarlinkConnection.connect(
            to: address,
            configuration: .init(callTimeout: .seconds(2)),
            group: Session.eventLoops
        )
        defer { Task { await connection.close() } }
        return try await body(VarlinkClient(transport: connection))
    }

    /// Schemes for an empty word; under `unix:`, the directories and sockets matching the
    /// typed path (sockets followed by `socketSuffix`).
    private static func addresses(_ prefix: String, socketSuffix: String) -> [String] {
        guard prefix.hasPrefix("unix:"), !prefix.hasPrefix("unix:@") else {
            return ["unix:/", "unix:@", "tcp:", "exec:/"]
        }
        let path = String(prefix.dropFirst(5))
        let directory = path.contains("/") ? String(path[...path.lastIndex(of: "/")!]) : ""
        let listed = directory.isEmpty ? "." : directory
        let partial = path.dropFirst(directory.count)
        var results: [String] = []
        for entry in Files.list(listed).sorted() where entry.hasPrefix(partial) && (!entry.hasPrefix(".") || partial.hasPrefix(".")) {
            switch Files.type(listed + "/" + entry) {
            case S_IFDIR: results.append("unix:\(directory)\(entry)/")
            case S_IFSOCK: results.append("unix:\(directory)\(entry)\(socketSuffix)")
            default: break
            }
        }
        return results
    }
}
