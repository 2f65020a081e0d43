import Subprocess
import SystemPackage

/// The output of a program Libpod ran to completion.
struct ProcessOutput: Sendable {
    var status: Int32
    var standardOutput: String
    var standardError: String

    var succeeded: Bool { status == 0 }
}

/// Runs helper programs (the OCI runtime's subcommands, `--version` queries) through
/// swift-subprocess, which starts them with a clean signal mask and waits without
/// blocking a thread.
enum ProcessRunner {
    static func run(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, outputLimit: Int = 1 << 20
    ) async throws(LibpodError) -> ProcessOutput {
        let environmentSetting: Environment
        if let environment {
            environmentSetting = .custom(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, $0.value) }))
        } else {
            environmentSetting = .inherit
        }
        do {
            let result = try await Subprocess.run(
                .path(FilePath(path)), arguments: Arguments(arguments), environment: environmentSetting,
                output: .string(limit: outputLimit), error: .string(limit: outputLimit))
            let status: Int32
            switch result.terminationStatus {
            case .exited(let code): status = code
            case .signaled(let signal): status = 128 + signal
            }
            return ProcessOutput(status: status, standardOutput: result.standardOutput, standardError: result.standardError)
        } catch {
            throw .helperFailed(program: "\(path) \(arguments.joined(separator: " "))", cause: "\(error)")
        }
    }

    /// The first line of `path --version`, or nil when it will not say.
    static func version(of path: String) async -> String? {
        guard let output = try? await run(path, ["--version"]), output.succeeded else { return nil }
        return output.standardOutput.split(separator: "\n").first.map(String.init)
    }
}
