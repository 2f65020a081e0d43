import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// io.podman on Libpod. Each method is a thin mapping: parameters in, Libpod calls,
/// io.podman's reply or error out, one file per capability (`PodmanService+*.swift`).
/// Nothing is kept between calls but the runtime.
public struct PodmanService: IoPodman.ServiceProtocol {
    public static let version = "0.2.0"
    public let runtime: Runtime
    /// How an image's runlabel command reaches this service: the podlink CLI (standing in
    /// for `podman`) and the environment that points it here.
    public let runlabelCLI: [String]
    public let runlabelEnvironment: [String: String]

    /// `address` is where this service listens, for the commands it runs (runlabel) to
    /// call back; the podlink CLI is looked for beside the running program.
    public init(runtime: Runtime, address: String? = nil) {
        self.runtime = runtime
        let beside = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent().appending(path: "podlink").path
        runlabelCLI = [FileManager.default.isExecutableFile(atPath: beside) ? beside : "podlink"]
        runlabelEnvironment = address.map { ["PODLINK_ADDRESS": $0] } ?? [:]
    }

    /// io.podman's clients were written against podman's Go service, which read an
    /// absent field as its zero value and ignored unknown ones (python-podman 1.6 leaves
    /// out fields newer interfaces added; podman-remote sends only the flags given).
    public var parameterDecoding: JSONDecodingMode { .goCompatible }

    // MARK: - The pattern every method follows

    /// Runs a method's work: whatever Libpod throws becomes the io.podman error that names it.
    func mapping<T>(_ body: () async throws -> T) async throws -> T {
        try await PodmanErrors.mapping(body)
    }

    /// Looks up a container by name, ID or ID prefix, then runs `body` with its full ID;
    /// a missing container is `ContainerNotFound`, and every other failure is mapped too.
    func withContainer<T>(_ name: String, _ body: (String) async throws -> T) async throws -> T {
        try await PodmanErrors.mapping { try await body(try await runtime.containerID(name)) }
    }

    /// A parameter that is wrong: `ErrorOccurred` with what was wrong and what would be right.
    func invalid(_ reason: String) -> IoPodman.ErrorOccurred {
        IoPodman.ErrorOccurred(reason: reason)
    }
}
