import ArgumentParser
import NIOCore
import Varlink
import VarlinkIDL
import VarlinkNIO

/// The tool's exit codes, after sysexits(3) where one fits. Documented in `--help` and
/// docs/varlink-tool.md; tests rely on them, so they never change.
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    /// The service answered with an error.
    case remoteError = 1
    /// Bad command line: unknown option, missing argument, malformed address.
    case usage = 64
    /// The input is invalid: JSON that does not parse or does not match the method,
    /// an interface file with errors.
    case invalidInput = 65
    /// A file cannot be read.
    case cannotRead = 66
    /// The service cannot be reached: connecting, activating or bridging failed.
    case cannotConnect = 69
    /// A bug in the tool.
    case internalError = 70
    /// No reply within --timeout.
    case timeout = 75
    /// The service broke the protocol: a malformed reply, or the connection closed
    /// before the reply came.
    case protocolError = 76

    var summary: String {
        switch self {
        case .success: "success"
        case .remoteError: "the service replied with an error (printed to stderr)"
        case .usage: "usage error (bad option, argument or address)"
        case .invalidInput: "invalid input: bad JSON, parameters that do not fit the method, bad IDL"
        case .cannotRead: "a file cannot be read"
        case .cannotConnect: "cannot connect to the service (or start it with -A/-b)"
        case .internalError: "internal error"
        case .timeout: "no reply within --timeout"
        case .protocolError: "invalid reply, or the service closed the connection"
        }
    }

    static var table: String {
        allCases.map { "  \(String($0.rawValue).leftPadded(to: 3))  \($0.summary)" }.joined(separator: "\n")
    }
}

/// A failure the tool reports and exits on: the message goes to stderr as
/// `varlink: MESSAGE`, unless it was printed already (`message` nil).
struct ToolFailure: Error {
    var status: ExitStatus
    var message: String?

    init(_ status: ExitStatus, _ message: String?) {
        self.status = status
        self.message = message
    }

    /// The status and wording for an error thrown while talking to a service.
    static func classify(_ error: any Error) -> ToolFailure {
        switch error {
        case let failure as ToolFailure: failure
        case let error as VarlinkTimeoutError: ToolFailure(.timeout, error.description)
        case is VarlinkConnectionClosed:
            ToolFailure(.protocolError, "the service closed the connection before it replied")
        case let error as VarlinkProtocolError: ToolFailure(.protocolError, "invalid reply: \(error)")
        case let error as VarlinkReplyDecodingError: ToolFailure(.protocolError, "invalid reply: \(error)")
        case let error as JSONDecodingError: ToolFailure(.protocolError, "invalid reply: \(error)")
        case let error as VarlinkAddressError: ToolFailure(.usage, error.description)
        case let error as VarlinkSocketError: ToolFailure(.cannotConnect, error.description)
        case let error as JSONSyntaxError: ToolFailure(.invalidInput, error.description)
        case let error as DiagnosticError: ToolFailure(.invalidInput, error.description)
        case let error as IOError: ToolFailure(.cannotConnect, "\(error)")
        case let error as ChannelError: ToolFailure(.protocolError, "connection failed: \(error)")
        default: ToolFailure(.internalError, "\(error)")
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Runs a command's body, turning any failure into its message on stderr and its exit
/// status; cleans up activated services on every path.
func runReportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
        ChildServices.terminateAll()
    } catch let exit as ExitCode {
        ChildServices.terminateAll()
        throw exit
    } catch {
        ChildServices.terminateAll()
        let failure = ToolFailure.classify(error)
        if let message = failure.message {
            Terminal.standardError.write("varlink: \(message)\n")
        }
        throw ExitCode(failure.status.rawValue)
    }
}
