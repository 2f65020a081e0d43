import Foundation
import PodlinkTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The certification servers the tool is tested against.
enum Peer: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case podlink
    case python
    case go

    var testDescription: String { rawValue }

    /// The command serving certification on `path`, or nil (after recording why) when the
    /// peer is not installed.
    func command(path: String) -> [String]? {
        switch self {
        case .podlink:
            return [Environment.builtProduct("varlink-certification"), "--varlink=unix:\(path)"]
        case .python:
            guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0 (pip install varlink==31.0.0)")
            else { return nil }
            return ["python3", "-m", "varlink.tests.test_certification", "--varlink=unix:\(path)"]
        case .go:
            guard
                Environment.require(Environment.goCertification != nil, "varlink-go-certification (apt-get install varlink-go)"),
                let go = Environment.goCertification
            else { return nil }
            return [go, "-varlink=unix:\(path)"]
        }
    }
}

/// Runs `body` with a server started from `command(path)` listening on a fresh socket,
/// and stops the server afterwards. Does nothing when `command` returns nil.
func withServer(
    _ command: (String) -> [String]?,
    _ body: (_ address: String, _ server: ChildProcess) async throws -> Void
) async throws {
    let path = temporarySocketPath("cli")
    guard let command = command(path) else { return }
    let server = try ChildProcess.start(command)
    do {
        try await waitForSocket(path)
        try await body("unix:\(path)", server)
        await server.stop()
    } catch {
        await server.stop()
        throw error
    }
    unlink(path)
}

/// A certification server of `peer`.
func withServer(_ peer: Peer, _ body: (_ address: String) async throws -> Void) async throws {
    try await withServer({ peer.command(path: $0) }) { address, _ in try await body(address) }
}

/// python's streaming example service, org.example.more.
func withMoreServer(_ body: (_ address: String, _ server: ChildProcess) async throws -> Void) async throws {
    try await withServer({ path in
        guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0 (pip install varlink==31.0.0)")
        else { return nil }
        return ["python3", "-m", "varlink.tests.test_orgexamplemore", "--varlink=unix:\(path)"]
    }, body)
}

/// The repository's root, to find interface files.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
