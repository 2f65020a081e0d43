import Foundation
import PodlinkTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How the tool reaches services: -A activation, -b bridges, `varlink bridge`, and the
/// exit codes when it cannot (cannot connect, timeout, a failing command).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ConnectionTests {
    static let certification = Environment.builtProduct("varlink-certification")

    @Test func activatesOurCertificationServer() async throws {
        let command = "\(Self.certification) --varlink=$VARLINK_ADDRESS"
        let info = try await Tool.varlink(["-A", command, "info"])
        #expect(info.status == 0, "\(info)")
        #expect(info.stdout.contains("   Product: Certification\n"))

        // Options after the command name work too, and the first positional argument of
        // list-methods is then an interface.
        let methods = try await Tool.varlink(["list-methods", "-A", command, "org.varlink.service"])
        #expect(methods.stdout == "org.varlink.service.GetInfo\norg.varlink.service.GetInterfaceDescription\n", "\(methods)")

        let call = try await Tool.varlink(["-A", command, "call", "org.varlink.certification.Start"])
        #expect(call.status == 0, "\(call)")
        #expect(call.stdout.hasPrefix("{\"client_id\":"))
    }

    @Test func activatesPeers() async throws {
        if Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0") {
            let call = try await Tool.varlink([
                "-A", "python3 -m varlink.tests.test_orgexamplemore --varlink=$VARLINK_ADDRESS",
                "call", "org.example.more.Ping", #"{"ping":"activated"}"#,
            ])
            #expect(call.status == 0, "\(call)")
            #expect(call.stdout == "{\"pong\":\"activated\"}\n")
        }
        if Environment.require(Environment.goCertification != nil, "varlink-go-certification"),
            let go = Environment.goCertification
        {
            let info = try await Tool.varlink(["-A", "\(go) -varlink=$VARLINK_ADDRESS", "list-interfaces"])
            #expect(info.status == 0, "\(info)")
            #expect(info.stdout == "org.varlink.service\norg.varlink.certification\n")
        }
    }

    @Test func activationCommandThatFailsCannotConnect() async throws {
        let output = try await Tool.varlink(["-A", "/nonexistent/service", "info"])
        #expect(output.status == 69, "\(output)")
        #expect(output.stderr.contains("exited with status 127"), "\(output)")
    }

    @Test func addressAndActivationExcludeEachOther() async throws {
        let output = try await Tool.varlink(["-A", "true", "info", "unix:/x.sock"])
        #expect(output.status == 64, "\(output)")
    }

    @Test func bridgesThroughPythonsBridge() async throws {
        guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0") else { return }
        try await withServer(.go) { address in
            let output = try await Tool.varlink(["-b", "python3 -m varlink.cli bridge -c \(address)", "info"])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.contains("Interfaces: org.varlink.service\n"))
        }
    }

    @Test(arguments: Peer.allCases)
    func bridgesThroughOurOwnBridge(peer: Peer) async throws {
        try await withServer(peer) { address in
            let bridge = "'\(Tool.path)' bridge --connect \(address)"
            let call = try await Tool.varlink(["-b", bridge, "call", "org.varlink.certification.Start"])
            #expect(call.status == 0, "\(call)")
            #expect(call.stdout.hasPrefix("{\"client_id\":"))

            let error = try await Tool.varlink(["-b", bridge, "call", "--no-validate", "org.varlink.certification.Nope"])
            #expect(error.status == 1, "\(error)")
            #expect(error.stderr.hasPrefix("error: org.varlink.service.MethodNotFound\n"))
        }
    }

    @Test func bridgeCarriesAStream() async throws {
        try await withMoreServer { address, _ in
            let bridge = "'\(Tool.path)' bridge --connect \(address)"
            let output = try await Tool.varlink(["-b", bridge, "call", "--collect", "org.example.more.TestMore", #"{"n":1}"#])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.hasPrefix(#"[{"state":{"start":true}},"#), "\(output)")
        }
    }

    /// `varlink bridge` on its own: raw messages in on stdin, replies out on stdout.
    @Test func bridgeCommandRelaysMessages() async throws {
        try await withServer(.python) { address in
            let output = try await Tool.varlink(
                ["bridge", "--connect", address],
                stdin: "{\"method\":\"org.varlink.service.GetInfo\"}\0"
            )
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.hasPrefix("{\"parameters\":"), "\(output)")
            #expect(output.stdout.hasSuffix("\0"))
        }
    }

    @Test func bridgeCommandThatFailsCannotConnect() async throws {
        let output = try await Tool.varlink(["-b", "exit 3", "info"])
        #expect(output.status == 69, "\(output)")
        #expect(output.stderr.contains("exited with status 3"), "\(output)")
    }

    @Test func cannotConnect() async throws {
        let missing = try await Tool.varlink(["info", "unix:/nonexistent/podlink.sock"])
        #expect(missing.status == 69, "\(missing)")
        #expect(missing.stderr == "varlink: cannot connect to unix:/nonexistent/podlink.sock: No such file or directory\n")

        let call = try await Tool.varlink(["call", "unix:/nonexistent/podlink.sock/org.varlink.service.GetInfo"])
        #expect(call.status == 69, "\(call)")

        let bridge = try await Tool.varlink(["bridge", "--connect", "unix:/nonexistent/podlink.sock"], stdin: "")
        #expect(bridge.status == 69, "\(bridge)")
    }

    @Test func malformedAddressIsAUsageError() async throws {
        let output = try await Tool.varlink(["info", "nonsense"])
        #expect(output.status == 64, "\(output)")
        #expect(output.stderr.contains("invalid varlink address 'nonsense'"))
        let missing = try await Tool.varlink(["info"])
        #expect(missing.status == 64, "\(missing)")
    }

    /// A socket that is listened on but never accepted: the call is never answered.
    @Test func timeout() async throws {
        let path = temporarySocketPath("hang")
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer {
            close(listener)
            unlink(path)
        }
        let bound = withUnixSocketAddress(path) { bind(listener, $0, $1) }
        #expect(bound == 0 && listen(listener, 8) == 0)

        let start = ContinuousClock.now
        let output = try await Tool.varlink(["--timeout", "0.3", "info", "unix:\(path)"])
        #expect(output.status == 75, "\(output)")
        #expect(output.stderr == "varlink: no reply within 0.3s (--timeout)\n")
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func timeoutRestartsWithEachReplyOfAStream() async throws {
        // TestMore sleeps about a second between replies: a 3-second timeout never fires,
        // though the whole stream takes longer than that.
        try await withMoreServer { address, _ in
            let output = try await Tool.varlink([
                "call", "--timeout", "3", "--more", "\(address)/org.example.more.TestMore", #"{"n":2}"#,
            ])
            #expect(output.status == 0, "\(output)")
            #expect(output.stdout.split(separator: "\n").count == 5)
        }
    }
}
