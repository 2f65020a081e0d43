import ArgumentParser
import VarlinkIDL

struct Format: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an interface file in canonical form (libvarlink's layout, as varlink-codegen format).",
        discussion: "Errors are printed as FILE:LINE:COL: error: MESSAGE, and the exit status is 65."
    )

    @Argument(help: "The interface file (.varlink), or '-' for stdin.", completion: .file(extensions: ["varlink"]))
    var file: String

    func run() async throws {
        try await runReportingFailures {
            let interface = try await InterfaceFile.parse(file)
            Terminal.standardOutput.write(interface.canonicalDescription)
        }
    }
}

struct ValidateIDL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-idl",
        abstract: "Check interface files, printing each error as FILE:LINE:COL: error: MESSAGE.",
        discussion: "Prints nothing when every file is valid. Exit status 0 when all are, 65 when one is not, 66 when one cannot be read."
    )

    @Argument(help: "Interface files (.varlink); '-' or none reads stdin.", completion: .file(extensions: ["varlink"]))
    var files: [String] = []

    func run() async throws {
        try await runReportingFailures {
            var worst = ExitStatus.success
            for file in files.isEmpty ? ["-"] : files {
                do {
                    _ = try await InterfaceFile.parse(file)
                } catch let failure as ToolFailure {
                    if let message = failure.message { Terminal.standardError.write("varlink: \(message)\n") }
                    if worst == .success || failure.status == .cannotRead { worst = failure.status }
                }
            }
            if worst != .success { throw ExitCode(worst.rawValue) }
        }
    }
}

/// Reads and parses one interface file; diagnostics go to stderr like a compiler's.
enum InterfaceFile {
    static func parse(_ path: String) async throws -> InterfaceDefinition {
        let source = try await read(path)
        let name = path == "-" ? "<stdin>" : path
        do {
            return try InterfaceDefinition.parse(source, fileName: name)
        } catch {
            Terminal.standardError.write(error.description + "\n")
            throw ToolFailure(.invalidInput, nil)
        }
    }

    private static func read(_ path: String) async throws -> String {
        if path == "-" {
            if Terminal.standardInputIsTerminal {
                throw ToolFailure(.usage, "no interface file given, and stdin is a terminal")
            }
            return String(decoding: try await Terminal.readStandardInput(), as: UTF8.self)
        }
        switch await Threads.run({ Files.read(path) }) {
        case .success(let bytes):
            // Invalid UTF-8 becomes U+FFFD, which the parser then reports where it stands.
            return String(decoding: bytes, as: UTF8.self)
        case .failure(let error):
            throw ToolFailure(.cannotRead, "\(path): \(error)")
        }
    }
}
