import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// Registries: pull, push, search, with podman 1.9.3's progress lines.
extension PodmanService {
    static func pullLog(_ event: PullEvent) -> String? {
        switch event {
        case .trying(let reference): return "Trying to pull \(reference)...\n"
        case .resolvedManifest: return "Getting image source signatures\n"
        case .copyingBlob(let digest, _), .skippedBlob(let digest): return "Copying blob \(digest)\n"
        case .copiedBlob: return nil
        case .copyingConfig(let digest): return "Copying config \(digest)\n"
        case .storing: return "Writing manifest to image destination\nStoring signatures\n"
        }
    }

    public func pullImage(_ parameters: IoPodman.Methods.PullImage.Parameters, call: VarlinkCall<IoPodman.Methods.PullImage.Reply>) async throws -> IoPodman.Methods.PullImage.Reply {
        let credentials = parameters.creds.username.isEmpty
            ? nil : RegistryCredentials(username: parameters.creds.username, password: parameters.creds.password)
        return try await streamingProgress(call, reply: { .init(reply: IoPodman.MoreResponse(logs: $0, id: $1)) }) { log in
            do {
                let image = try await runtime.pull(parameters.name, options: PullOptions(credentials: credentials)) { event in
                    if let line = Self.pullLog(event) { log(line) }
                }
                return image.id
            } catch {
                // podman's wording, with ours after it.
                throw IoPodman.ErrorOccurred(reason: "unable to pull \(parameters.name): \(error)")
            }
        }
    }

    public func pushImage(_ parameters: IoPodman.Methods.PushImage.Parameters, call: VarlinkCall<IoPodman.Methods.PushImage.Reply>) async throws -> IoPodman.Methods.PushImage.Reply {
        let format: PushFormat
        switch parameters.format {
        case "", "oci": format = parameters.format.isEmpty ? .keep : .oci
        case "v2s2", "docker": format = .dockerV2Schema2
        case "v2s1": throw invalid("format v2s1 (Docker schema 1) is deprecated and not written; use oci or v2s2")
        default: throw invalid("unknown manifest format \"\(parameters.format)\"; use oci or v2s2")
        }
        guard parameters.signBy.isEmpty else { throw invalid("signing (signBy) is not supported: Podlink does not make signatures yet") }
        let destination = parameters.tag.isEmpty ? parameters.name : parameters.tag
        return try await streamingProgress(call, reply: { .init(reply: IoPodman.MoreResponse(logs: $0, id: $1)) }) { log in
            try await mapping {
                let image = try runtime.images.image(parameters.name)
                try await runtime.push(
                    image.id, to: destination, options: PushOptions(format: format, compress: parameters.compress)
                ) { event in
                    if let line = Self.pushLog(event) { log(line) }
                }
                return image.id
            }
        }
    }

    static func pushLog(_ event: PushEvent) -> String? {
        switch event {
        case .started: return "Getting image source signatures\n"
        case .copyingBlob(let digest), .skippedBlob(let digest): return "Copying blob \(digest)\n"
        case .copyingConfig(let digest): return "Copying config \(digest)\n"
        case .writingManifest: return "Writing manifest to image destination\nStoring signatures\n"
        }
    }

    public func searchImages(_ parameters: IoPodman.Methods.SearchImages.Parameters, call: VarlinkCall<IoPodman.Methods.SearchImages.Reply>) async throws -> IoPodman.Methods.SearchImages.Reply {
        try await mapping {
            let found = try await runtime.search(parameters.query, limit: parameters.limit ?? 25)
            // A distribution catalog has no stars, official or automated marks: a filter on
            // them keeps only what matches the zero values, as podman's would.
            let results = found.results.filter { result in
                (parameters.filter.isOfficial.map { $0 == result.official } ?? true)
                    && (parameters.filter.isAutomated.map { $0 == result.automated } ?? true)
                    && result.stars >= parameters.filter.starCount
            }
            return .init(results: results.map {
                IoPodman.ImageSearchResult(
                    description: $0.description, isOfficial: $0.official, isAutomated: $0.automated, registry: $0.registry, name: $0.name,
                    starCount: $0.stars)
            })
        }
    }
}
