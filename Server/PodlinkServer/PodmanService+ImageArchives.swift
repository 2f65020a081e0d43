import Foundation
import Glibc
import Libpod
import PodlinkInterfaces
import Varlink

/// Images out of the store and out of containers: save, export, commit, history.
extension PodmanService {
    /// podman save as podman-remote 1.9.3 calls it: the archive is written into the
    /// transfer area and its path is the reply's `id`, for ReceiveFile; `output` is the
    /// client's own path and is not used here. oci-dir comes as a tarball of the layout.
    public func imageSave(_ parameters: IoPodman.Methods.ImageSave.Parameters, call: VarlinkCall<IoPodman.Methods.ImageSave.Reply>) async throws -> IoPodman.Methods.ImageSave.Reply {
        let options = parameters.options
        let format = try archiveFormat(options.format.isEmpty ? "docker-archive" : options.format)
        return try await streamingProgress(call, reply: { .init(reply: IoPodman.MoreResponse(logs: $0, id: $1)) }) { log in
            try await mapping {
                let transfers = runtime.transfers
                let image = try runtime.images.image(options.name)
                try transfers.checkRoom(for: image.size)
                let output = try transfers.newFile(suffix: ".tar")
                do {
                    if !options.quiet { log("Getting image source signatures\n") }
                    try await write(image.id, names: [options.name] + options.moreTags, format: format, to: output)
                    if !options.quiet { log("Writing manifest to image destination\nStoring signatures\n") }
                } catch {
                    unlink(output)
                    throw error
                }
                runtime.record(Event(type: .image, status: "save", id: image.id, name: options.name))
                return output
            }
        }
    }

    /// podman 1.x's ExportImage: `destination` is TRANSPORT:PATH on the daemon's machine
    /// (docker-archive:, oci-archive:, oci:), or docker://NAME, which pushes.
    public func exportImage(_ parameters: IoPodman.Methods.ExportImage.Parameters, call: VarlinkCall<IoPodman.Methods.ExportImage.Reply>) async throws -> IoPodman.Methods.ExportImage.Reply {
        let destination = parameters.destination
        if destination.hasPrefix("docker://") {
            return try await mapping {
                let image = try runtime.images.image(parameters.name)
                try await runtime.push(image.id, to: destination, options: PushOptions(compress: parameters.compress))
                return .init(image: image.id)
            }
        }
        guard let colon = destination.firstIndex(of: ":") else {
            throw invalid("destination \"\(destination)\" needs a transport: docker-archive:PATH, oci-archive:PATH, oci:DIRECTORY or docker://NAME")
        }
        let transport = String(destination[..<colon])
        var path = String(destination[destination.index(after: colon)...])
        // oci:DIR:TAG and docker-archive:PATH:NAME carry a reference after the path.
        var names = [parameters.name] + parameters.tags
        if let last = path.lastIndex(of: ":"), path[..<last].hasPrefix("/") {
            names = [String(path[path.index(after: last)...])] + parameters.tags
            path = String(path[..<last])
        }
        let format = try archiveFormat(transport == "oci" ? "oci-dir" : transport)
        guard path.hasPrefix("/") else { throw invalid("the path in \"\(destination)\" must be absolute (it is a path on the daemon's machine)") }
        return try await mapping {
            let image = try runtime.images.image(parameters.name)
            try await runtime.images.save(image.id, names: names, format: format, to: path)
            runtime.record(Event(type: .image, status: "save", id: image.id, name: parameters.name))
            return .init(image: image.id)
        }
    }

    /// Writes the archive; an OCI directory is made beside and packed into `output`.
    private func write(_ id: String, names: [String], format: ImageArchiveFormat, to output: String) async throws {
        guard format == .ociDirectory else {
            try await runtime.images.save(id, names: names, format: format, to: output)
            return
        }
        let directory = output + ".d"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await runtime.images.save(id, names: names, format: .ociDirectory, to: directory)
        try Runtime.pack(directory + "/.", as: ".", to: output)
    }

    private func archiveFormat(_ name: String) throws -> ImageArchiveFormat {
        guard let format = ImageArchiveFormat(rawValue: name) else {
            throw invalid("unknown archive format \"\(name)\"; use docker-archive, oci-archive or oci-dir")
        }
        return format
    }

    /// podman export: `path` "" writes into the transfer area for ReceiveFile (what
    /// podman-remote does); a path is one on the daemon's machine.
    public func exportContainer(_ parameters: IoPodman.Methods.ExportContainer.Parameters, call: VarlinkCall<IoPodman.Methods.ExportContainer.Reply>) async throws -> IoPodman.Methods.ExportContainer.Reply {
        guard parameters.path.isEmpty || parameters.path.hasPrefix("/") else {
            throw invalid("path \"\(parameters.path)\" must be absolute (a path on the daemon's machine), or empty for a file to fetch with ReceiveFile")
        }
        return try await mapping {
            let target = parameters.path.isEmpty ? try runtime.transfers.newFile(suffix: ".tar") : parameters.path
            try await runtime.exportContainer(parameters.name, to: target)
            return .init(tarfile: target)
        }
    }

    public func commit(_ parameters: IoPodman.Methods.Commit.Parameters, call: VarlinkCall<IoPodman.Methods.Commit.Reply>) async throws -> IoPodman.Methods.Commit.Reply {
        let changes = try configChanges(parameters.changes)
        let docker: Bool
        switch parameters.manifestType {
        case "", "oci": docker = false
        case "docker", "v2s2": docker = true
        default: throw invalid("unknown manifest type \"\(parameters.manifestType)\"; use oci or docker")
        }
        let options = CommitOptions(
            name: parameters.imageName, changes: changes, author: parameters.author, message: parameters.message, pause: parameters.pause,
            dockerFormat: docker)
        return try await streamingProgress(call, reply: { .init(reply: IoPodman.MoreResponse(logs: $0, id: $1)) }) { log in
            try await mapping {
                log("Getting image source signatures\n")
                let image = try await runtime.commit(parameters.name, options: options)
                log("Writing manifest to image destination\nStoring signatures\n")
                return image.id
            }
        }
    }

    public func historyImage(_ parameters: IoPodman.Methods.HistoryImage.Parameters, call: VarlinkCall<IoPodman.Methods.HistoryImage.Reply>) async throws -> IoPodman.Methods.HistoryImage.Reply {
        try await mapping {
            .init(history: try runtime.images.history(parameters.name).map { step in
                IoPodman.ImageHistory(
                    id: step.id, created: step.created.map { PodmanFormat.seconds($0) } ?? "", createdBy: step.createdBy, tags: step.tags,
                    size: Int(step.size), comment: step.comment)
            })
        }
    }
}
