import PodlinkTestSupport
import Testing

/// Shell completion scripts, live completion of names, and the documented usage.
@Suite(.timeLimit(.minutes(2)))
struct CompletionAndUsageTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(shell: String) async throws {
        let output = try await Tool.varlink(["--generate-completion-script", shell])
        #expect(output.status == 0, "\(output)")
        // The scripts call the tool back for addresses, methods and interfaces.
        #expect(output.stdout.contains("---completion call -- positional@0"))
        #expect(output.stdout.contains("---completion list-methods -- positional@1"))
    }

    /// What the scripts run when completing `varlink call ADDRESS/`: the service's
    /// methods, fully qualified, behind the address.
    @Test func completesMethodsFromALiveService() async throws {
        try await withServer(.podlink) { address in
            let word = "\(address)/"
            let output = try await Tool.varlink([
                "---completion", "call", "--", "positional@0", "2", "\(word.count)", "varlink", "call", word,
            ])
            #expect(output.status == 0, "\(output)")
            let candidates = output.stdout.split(separator: "\n").map(String.init)
            #expect(candidates.contains("\(address)/org.varlink.certification.Test01"), "\(output)")
            #expect(candidates.contains("\(address)/org.varlink.service.GetInfo"))
            #expect(!candidates.contains("\(address)/org.varlink.certification.MyType"))

            let help = try await Tool.varlink([
                "---completion", "help", "--", "positional@0", "2", "\(word.count)", "varlink", "help", word,
            ])
            let members = help.stdout.split(separator: "\n").map(String.init)
            #expect(members.contains("\(address)/org.varlink.certification"), "\(help)")
            #expect(members.contains("\(address)/org.varlink.certification.MyType"))
        }
    }

    @Test func completesInterfacesAndSocketPaths() async throws {
        try await withServer(.podlink) { address in
            let interfaces = try await Tool.varlink([
                "---completion", "introspect", "--", "positional@1", "3", "0", "varlink", "introspect", address, "",
            ])
            #expect(interfaces.stdout == "org.varlink.service\norg.varlink.certification\n", "\(interfaces)")

            // A partly typed socket path completes to the socket, followed by '/' for the
            // method that comes next.
            let partial = String(address.dropLast(8))
            let paths = try await Tool.varlink([
                "---completion", "call", "--", "positional@0", "2", "\(partial.count)", "varlink", "call", partial,
            ])
            #expect(paths.stdout.split(separator: "\n").contains("\(address)/"), "\(paths)")
        }
    }

    @Test func helpDocumentsTheExitCodes() async throws {
        let output = try await Tool.varlink(["--help"])
        #expect(output.status == 0)
        for line in ["    0  success", "    1  the service replied with an error", "   64  usage error", "   65  invalid input",
            "   69  cannot connect", "   75  no reply within --timeout", "   76  invalid reply"]
        {
            #expect(output.stdout.contains(line), "missing '\(line)' in:\n\(output.stdout)")
        }
    }

    @Test func unknownOptionIsAUsageError() async throws {
        let output = try await Tool.varlink(["info", "--nope"])
        #expect(output.status == 64, "\(output)")
    }

    @Test func helpWithoutAnAddressIsTheToolsHelp() async throws {
        let output = try await Tool.varlink(["help", "call"])
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.contains("USAGE: varlink call"))
    }
}
