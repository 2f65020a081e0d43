import Foundation
import PodlinkTestSupport
import Testing
import Varlink
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// Who may connect and call: the socket file's mode, and the server's peer policy
/// (SO_PEERCRED). A second user is simulated with setpriv as `nobody`.
@Suite(.timeLimit(.minutes(1)))
struct AccessControlTests {
    let service = TestService.makeService().0
    static let nobody: UInt32 = 65534

    static var available: Bool {
        Environment.require(geteuid() == 0, "root (to act as another user)")
            && Environment.require(Environment.executable("setpriv") != nil, "setpriv (util-linux)")
            && Environment.require(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "/usr/bin/python3 (Debian's python3)")
    }

    /// GetInfo as `nobody`, on a fresh connection: what came back, or the connect error.
    private func callAsNobody(_ path: String) async throws -> String {
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(sys.argv[1])
            except OSError as e:
                print("connect:", e.strerror); sys.exit(0)
            s.sendall(b'{"method":"org.varlink.service.GetInfo"}\\0')
            data = b''
            while True:
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
                if data.endswith(b'\\0'): break
            print(data.rstrip(b'\\0').decode() or "closed")
            """
        let output = try await Tool.run([
            "setpriv", "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "/usr/bin/python3", "-c", script, path,
        ])
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theSocketModeDecidesWhoMayConnect() async throws {
        guard Self.available else { return }
        let closed = VarlinkAddress.unix(path: temporarySocketPath("mode"), mode: 0o660)
        try await withServer(service, address: closed) { address, _ in
            var info = stat()
            #expect(stat(path(address), &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
            let reply = try await callAsNobody(path(address))
            #expect(reply == "connect: Permission denied")
        }
        let open = VarlinkAddress.unix(path: temporarySocketPath("mode"), mode: 0o666)
        try await withServer(service, address: open) { address, _ in
            let reply = try await callAsNobody(path(address))
            #expect(reply.contains("\"product\":\"tests\""), "\(reply)")
        }
    }

    @Test func thePeerPolicyRefusesOtherUsersWithPermissionDenied() async throws {
        guard Self.available else { return }
        let address = VarlinkAddress.unix(path: temporarySocketPath("peer"), mode: 0o666)
        try await withServer(service, address: address, configure: { $0.allowedPeers = VarlinkPeerPolicy() }) { address, _ in
            let reply = try await callAsNobody(path(address))
            #expect(reply == #"{"error":"org.varlink.service.PermissionDenied","parameters":{}}"#)
            // The server's own user is still served.
            let client = try RawClient(path: path(address))
            client.call(#"{"method":"org.podlink.test.Ping","parameters":{"ping":"root"}}"#)
            #expect(try await client.receiveReply() == ["parameters": ["pong": "root"]])
        }
        let allowing = VarlinkAddress.unix(path: temporarySocketPath("peer"), mode: 0o666)
        try await withServer(service, address: allowing, configure: { $0.allowedPeers = VarlinkPeerPolicy(uids: [Self.nobody]) }) { address, _ in
            let reply = try await callAsNobody(path(address))
            #expect(reply.contains("\"product\":\"tests\""), "\(reply)")
        }
        let byGroup = VarlinkAddress.unix(path: temporarySocketPath("peer"), mode: 0o666)
        try await withServer(service, address: byGroup, configure: { $0.allowedPeers = VarlinkPeerPolicy(gids: [Self.nobody]) }) { address, _ in
            let reply = try await callAsNobody(path(address))
            #expect(reply.contains("\"product\":\"tests\""), "\(reply)")
        }
    }
}
