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
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, input: [UInt8]? = nil,
        outputLimit: Int = 1 << 20
    ) async throws(LibpodError) -> ProcessOutput {
        let environmentSetting: Environment
        if let environment {
            environmentSetting = .custom(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, $0.value) }))
        } else {
            environmentSetting = .inherit
        }
        do {
            let result = if let input {
                try await Subprocess.run(
                    .path(FilePath(path)), arguments: Arguments(arguments), environment: environmentSetting, input: .array(input),
                    output: .string(limit: outputLimit), error: .string(limit: outputLimit))
            } else {
                try await Subprocess.run(
                    .path(FilePath(path)), arguments: Arguments(arguments), environment: environmentSetting,
                    output: .string(limit: outputLimit), error: .string(limit: outputLimit))
            }
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

    /// Runs the program for at most `timeout`; nil when it took longer (it is then
    /// terminated, as swift-subprocess does for a cancelled run).
    static func run(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration
    ) async throws(LibpodError) -> ProcessOutput? {
        let work = Task { () async throws -> ProcessOutput in try await run(path, arguments, environment: environment) }
        let timer = Task {
            try await Task.sleep(for: timeout)
            work.cancel()
        }
        let result = await work.result
        let timedOut = work.isCancelled
        timer.cancel()
        if timedOut { return nil }
        switch result {
        case .success(let output): return output
        case .failure(let error as LibpodError): throw error
        case .failure(let error): throw .helperFailed(program: path, cause: "\(error)")
        }
    }

    /// The first line of `path --version`, or nil when it will not say.
    static func version(of path: String) async -> String? {
        guard let output = try? await run(path, ["--version"]), output.succeeded else { return nil }
        return output.standardOutput.split(separator: "\n").first.map(String.init)
    }
}
