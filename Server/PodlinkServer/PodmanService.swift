import Libpod
import PodlinkInterfaces
import Varlink

/// io.podman on Libpod. Each method is a thin mapping: parameters in, Libpod calls,
/// io.podman's reply or error out, one file per capability (`PodmanService+*.swift`).
/// Nothing is kept between calls but the runtime.
public struct PodmanService: IoPodman.ServiceProtocol {
    public static let version = "0.2.0"
    public let runtime: Runtime

    public init(runtime: Runtime) {
        self.runtime = runtime
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
