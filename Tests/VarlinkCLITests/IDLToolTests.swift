import Foundation
import PodlinkTestSupport
import Testing

/// `varlink format` and `varlink validate-idl`.
@Suite(.timeLimit(.minutes(2)))
struct IDLToolTests {
    static let interfaceFiles = [
        "interfaces/org.varlink.certification.varlink",
        "Tests/Fixtures/io.podman-v1.9.3.varlink",
        "Tests/VarlinkNIOTests/org.podlink.test.varlink",
    ]

    @Test(arguments: interfaceFiles)
    func formatEqualsTheCodeGeneratorsFormatter(file: String) async throws {
        let path = repositoryRoot.appending(path: file).path
        let ours = try await Tool.varlink(["format", path])
        let codegen = try await Tool.run([Environment.builtProduct("varlink-codegen"), "format", path])
        #expect(ours.status == 0, "\(ours)")
        #expect(codegen.status == 0, "\(codegen)")
        #expect(ours.stdout == codegen.stdout)
        #expect(!ours.stdout.isEmpty)
    }

    @Test func formatReadsStdin() async throws {
        let output = try await Tool.varlink(["format", "-"], stdin: "interface   org.example.a\nmethod   M( a :int )->()")
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout == "interface org.example.a\n\nmethod M(a: int) -> ()\n")
    }

    @Test func validateIDLAcceptsValidFiles() async throws {
        let paths = Self.interfaceFiles.map { repositoryRoot.appending(path: $0).path }
        let output = try await Tool.varlink(["validate-idl"] + paths)
        #expect(output.status == 0, "\(output)")
        #expect(output.stdout.isEmpty && output.stderr.isEmpty)
    }

    @Test func validateIDLReportsFileLineColumn() async throws {
        let path = "/tmp/podlink-tests/bad-\(getpid()).varlink"
        try "interface org.example.bad\n\nmethod M(a: nope) -> ()\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let output = try await Tool.varlink(["validate-idl", path])
        #expect(output.status == 65, "\(output)")
        #expect(output.stderr.hasPrefix("\(path):3:13: error: "), "\(output)")
        #expect(output.stderr.contains("method M(a: nope) -> ()\n            ^\n"))

        let format = try await Tool.varlink(["format", path])
        #expect(format.status == 65, "\(format)")
        #expect(format.stdout.isEmpty)
    }

    @Test func validateIDLReportsEveryResolverError() async throws {
        let output = try await Tool.varlink(
            ["validate-idl", "-"],
            stdin: "interface org.example.bad\ntype A (x: Missing)\ntype A (y: int)\n"
        )
        #expect(output.status == 65, "\(output)")
        let locations = output.stderr.split(separator: "\n").filter { $0.hasPrefix("<stdin>:") }
        #expect(locations.count == 2, "\(output)")
    }

    @Test func missingFileCannotBeRead() async throws {
        let output = try await Tool.varlink(["validate-idl", "/nonexistent/x.varlink"])
        #expect(output.status == 66, "\(output)")
        #expect(output.stderr.contains("/nonexistent/x.varlink: No such file or directory"))
        let format = try await Tool.varlink(["format", "/nonexistent/x.varlink"])
        #expect(format.status == 66, "\(format)")
    }
}
