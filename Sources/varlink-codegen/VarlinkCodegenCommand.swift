import ArgumentParser
import Foundation
import VarlinkCodegen
import VarlinkIDL

@main
struct VarlinkCodegenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "varlink-codegen",
        abstract: "Validate, format and generate Swift code from varlink interface files.",
        discussion: """
            Exit status: 0 on success; 1 when a file has errors (validate, generate) or is not \
            canonical (format --check); 64 for a usage error; 66 when a file cannot be read.
            """,
        subcommands: [Generate.self, Format.self, Validate.self]
    )
}

/// Reads and parses interface files, printing diagnostics the way compilers do.
enum InterfaceFiles {
    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            printError("\(path): error: the file \(reason)")
            throw ExitCode(66)
        }
        // Invalid UTF-8 becomes U+FFFD, which the parser then reports where it stands.
        return String(decoding: data, as: UTF8.self)
    }

    static func parse(_ path: String) throws -> (InterfaceDefinition, String) {
        let source = try read(path)
        do {
            return (try InterfaceDefinition.parse(source, fileName: path), source)
        } catch {
            printError(error.description)
            throw ExitCode.failure
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the Swift code for each interface file into a directory.",
        discussion: "Each FILE produces OUTPUT/<file name>.swift, e.g. io.podman.varlink -> io.podman.varlink.swift."
    )

    @Argument(help: "Interface files (.varlink).")
    var files: [String]

    @Option(help: "The directory to write the Swift files into; created if missing.")
    var output: String

    @Option(help: "Access level of the generated declarations: public, package or internal.")
    var accessLevel: SwiftGenerator.AccessLevel = .public

    @Option(help: "Swift namespace for the interface (only with one FILE). Default: from the interface name.")
    var namespace: String?

    func validate() throws {
        if namespace != nil && files.count != 1 {
            throw ValidationError("--namespace names the namespace of one interface; pass exactly one FILE with it.")
        }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let generator = SwiftGenerator(options: .init(accessLevel: accessLevel, namespace: namespace))
        var failed = false
        for file in files {
            let interface: InterfaceDefinition
            do {
                (interface, _) = try InterfaceFiles.parse(file)
            } catch {
                failed = true
                continue
            }
            let fileName = URL(fileURLWithPath: file).lastPathComponent
            let source = generator.generate(interface, sourceFileName: fileName)
            let destination = URL(fileURLWithPath: output).appendingPathComponent(fileName + ".swift")
            // Rewriting identical content would make every build recompile the target.
            if FileManager.default.contents(atPath: destination.path) != Data(source.utf8) {
                try Data(source.utf8).write(to: destination, options: .atomic)
            }
        }
        if failed { throw ExitCode.failure }
    }
}

extension SwiftGenerator.AccessLevel: ExpressibleByArgument {}

struct Format: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an interface file in canonical form (libvarlink's layout).",
        discussion: "With --check, print nothing and exit 1 when the file is not already canonical."
    )

    @Argument(help: "The interface file.")
    var file: String

    @Flag(help: "Only check: exit 1 when FILE differs from its canonical form.")
    var check = false

    func run() throws {
        let (interface, source) = try InterfaceFiles.parse(file)
        let canonical = interface.canonicalDescription
        if check {
            if canonical != source {
                InterfaceFiles.printError("\(file): not in canonical form; run 'varlink-codegen format \(file)'")
                throw ExitCode.failure
            }
            return
        }
        FileHandle.standardOutput.write(Data(canonical.utf8))
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check interface files and print every error as FILE:LINE:COL: error: ...",
        discussion: "Exit status 0 when every file is valid, 1 otherwise."
    )

    @Argument(help: "Interface files (.varlink).")
    var files: [String]

    func run() throws {
        var failed = false
        for file in files {
            do {
                _ = try InterfaceFiles.parse(file)
            } catch {
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}
