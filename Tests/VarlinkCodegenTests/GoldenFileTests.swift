import Foundation
import Testing
import VarlinkCodegen
import VarlinkIDL

/// The generated source of real interfaces is pinned by golden files, so that every
/// change to the generator shows up as a reviewable diff. Re-record with
/// `VARLINK_RECORD_GOLDEN=1 swift test --filter GoldenFileTests`.
@Suite struct GoldenFileTests {
    static let cases: [(interface: String, golden: String)] = [
        ("interfaces/org.varlink.certification.varlink", "org.varlink.certification.swift"),
        ("Tests/Fixtures/io.podman-v1.9.3.varlink", "io.podman-v1.9.3.swift"),
    ]

    @Test(arguments: cases)
    func generatedSourceMatchesGolden(interface: String, golden: String) throws {
        let root = PackageRoot.url
        let interfaceURL = root.appending(path: interface)
        let source = try String(contentsOf: interfaceURL, encoding: .utf8)
        let definition = try InterfaceDefinition.parse(source, fileName: interface)
        let generated = SwiftGenerator().generate(definition, sourceFileName: interfaceURL.lastPathComponent)

        let goldenURL = root.appending(path: "Tests/VarlinkCodegenTests/Golden/\(golden)")
        if ProcessInfo.processInfo.environment["VARLINK_RECORD_GOLDEN"] == "1" {
            try Data(generated.utf8).write(to: goldenURL)
            return
        }
        let expected = try #require(
            try? String(contentsOf: goldenURL, encoding: .utf8),
            "missing golden file \(goldenURL.path); record it with VARLINK_RECORD_GOLDEN=1"
        )
        if generated != expected {
            Issue.record("generated source differs from \(golden):\n\(Diff.unified(expected: expected, actual: generated))")
        }
    }

    @Test func generationIsDeterministic() throws {
        let source = try String(
            contentsOf: PackageRoot.url.appending(path: "interfaces/org.varlink.certification.varlink"),
            encoding: .utf8
        )
        let definition = try InterfaceDefinition.parse(source)
        let first = SwiftGenerator().generate(definition, sourceFileName: "x.varlink")
        let second = SwiftGenerator().generate(definition, sourceFileName: "x.varlink")
        #expect(first == second)
    }
}

enum PackageRoot {
    /// The package directory: the nearest ancestor of this file that holds Package.swift.
    static let url: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appending(path: "Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()
}

enum Diff {
    /// A unified diff of two texts, through git (present wherever the package is cloned).
    static func unified(expected: String, actual: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appending(path: "golden-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = directory.appending(path: "expected.swift")
        let b = directory.appending(path: "actual.swift")
        try? Data(expected.utf8).write(to: a)
        try? Data(actual.utf8).write(to: b)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "diff", "--no-index", "-U3", a.path, b.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return "(git not available to show the difference)" }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output.prefix(20_000), as: UTF8.self)
    }
}
