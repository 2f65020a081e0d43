import ArgumentParser
import Foundation
import Glibc
import PodlinkInterfaces
import PodmanClient

/// `user:password` as podman's --creds takes it (a password may hold colons).
private func credentials(_ text: String?) throws -> (username: String, password: String)? {
    guard let text else { return nil }
    guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
        throw ValidationError("--creds takes USERNAME:PASSWORD")
    }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
}

private func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull an image from a registry; prints its ID.",
        discussion: "Short names are resolved through the daemon's registries.conf (unqualified-search-registries). On a terminal the progress is shown on standard error.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "USERNAME:PASSWORD for the registry (else the daemon's auth file).") var creds: String?
    @Flag(name: .shortAndLong, help: "No progress, only the ID.") var quiet = false
    @Option(help: "From a manifest list, the image for this OS (default: the daemon's).") var overrideOs: String?
    @Option(help: "From a manifest list, the image for this architecture (amd64, arm64, ...).") var overrideArch: String?
    @Option(help: "From a manifest list, the image for this variant (v8, v7, ...).") var overrideVariant: String?
    @Argument(help: "The image: [REGISTRY/]NAME[:TAG|@DIGEST].") var image: String

    func run() async throws {
        let login = try credentials(creds)
        let platform = overrideOs == nil && overrideArch == nil && overrideVariant == nil
            ? nil : PodmanClient.Platform(os: overrideOs, architecture: overrideArch, variant: overrideVariant)
        let showProgress = !quiet && isatty(STDERR_FILENO) == 1
        let id = try await global.withClient { client in
            var pulled = ""
            for try await step in client.pull(image, credentials: login, platform: platform) {
                switch step {
                case .log(let line): if showProgress { FileHandle.standardError.write(Data(line.utf8)) }
                case .pulled(let id): pulled = id
                }
            }
            return pulled
        }
        print(id)
    }
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push an image to a registry.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Manifest format: oci or v2s2 (default: the image's own).") var format: String = ""
    @Flag(name: .shortAndLong, help: "No progress.") var quiet = false
    @Argument(help: "The local image.") var image: String
    @Argument(help: "The destination, REGISTRY/NAME[:TAG] (default: the image's name).") var destination: String?

    func run() async throws {
        let logs = try await global.withClient { try await $0.push(image, to: destination ?? image, format: format) }
        if !quiet { FileHandle.standardError.write(Data(logs.joined().utf8)) }
    }
}

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search registries for repositories whose name contains TERM.",
        discussion: "A distribution registry offers only its catalog: names are matched, without descriptions or stars. HOST/TERM searches that registry.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "At most this many results per registry.") var limit = 25
    @Option(help: "table or json.") var format: OutputFormat = .table
    @Argument(help: "The term.") var term: String

    func run() async throws {
        let results = try await global.withClient { try await $0.search(term, limit: limit) }
        if format == .json { return Output.json(results) }
        Output.table([["INDEX", "NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"]] + results.map {
            [$0.registry, $0.name, $0.description, String($0.starCount), $0.isOfficial ? "[OK]" : "", $0.isAutomated ? "[OK]" : ""]
        })
    }
}

struct Save: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save an image to a local archive.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "The file to write.") var output: String
    @Option(help: "docker-archive, oci-archive or oci-dir (a tarball of the layout).") var format = "docker-archive"
    @Flag(name: .shortAndLong, help: "Accepted for podman's sake; save prints nothing.") var quiet = false
    @Argument(help: "The image, then more names to record for it.") var images: [String]

    func run() async throws {
        guard let image = images.first else { throw ValidationError("give the image to save") }
        try await global.withClient { try await $0.save(image, to: absolute(output), format: format, names: images) }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a container's file system as a tar.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "The file to write.") var output: String
    @Argument(help: "The container.") var container: String

    func run() async throws {
        try await global.withClient { try await $0.export(container, to: absolute(output)) }
    }
}

struct Commit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "commit", abstract: "Make an image of a container's changes; prints its ID.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("c"), .long], help: "Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, ...), repeatable.") var change: [String] = []
    @Option(name: .shortAndLong, help: "The image's author.") var author = ""
    @Option(name: .shortAndLong, help: "A message for the history.") var message = ""
    @Option(name: .shortAndLong, help: "oci or docker.") var format = "oci"
    @Option(name: .shortAndLong, help: "Pause the container while committing (true or false).") var pause = true
    @Flag(name: .shortAndLong, help: "Only the ID.") var quiet = false
    @Argument(help: "The container.") var container: String
    @Argument(help: "The new image's name.") var image: String = ""

    func run() async throws {
        let id = try await global.withClient {
            try await $0.commit(container, as: image, changes: change, author: author, message: message, pause: pause, format: format)
        }
        print(id)
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show how an image was made, newest step first.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Whole IDs and commands.") var noTrunc = false
    @Flag(name: .shortAndLong, help: "Only IDs.") var quiet = false
    @Option(help: "table or json.") var format: OutputFormat = .table
    @Argument(help: "The image.") var image: String

    func run() async throws {
        let steps = try await global.withClient { try await $0.history(image) }
        if format == .json { return Output.json(steps) }
        func id(_ step: IoPodman.ImageHistory) -> String { noTrunc || step.id == "<missing>" ? step.id : String(step.id.prefix(12)) }
        if quiet { return steps.forEach { print(id($0)) } }
        Output.table([["ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"]] + steps.map { step in
            let command = noTrunc || step.createdBy.count <= 45 ? step.createdBy : step.createdBy.prefix(42) + "..."
            return [id(step), step.created.isEmpty ? "" : Output.ago(step.created), command, Output.size(step.size), step.comment]
        })
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log the daemon in to a registry.",
        discussion: "The daemon checks the credentials with the registry and keeps them in its auth file, where its pulls and pushes find them.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "The user name.") var username: String?
    @Option(name: .shortAndLong, help: "The password (prefer --password-stdin).") var password: String?
    @Flag(help: "Read the password from standard input.") var passwordStdin = false
    @Argument(help: "The registry, HOST[:PORT].") var registry: String

    func run() async throws {
        guard let username, !username.isEmpty else { throw ValidationError("give the user name with --username") }
        var secret = password
        if passwordStdin {
            secret = readLine(strippingNewline: true)
        }
        guard let secret, !secret.isEmpty else { throw ValidationError("give the password with --password-stdin (or --password)") }
        try await global.withClient { try await $0.login(registry, username: username, password: secret) }
        print("Login Succeeded!")
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Make the daemon forget a registry's credentials.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Every registry's.") var all = false
    @Argument(help: "The registry, HOST[:PORT].") var registry: String?

    func run() async throws {
        guard all || registry != nil else { throw ValidationError("give the registry, or --all") }
        try await global.withClient { try await $0.logout(all ? nil : registry) }
        print(all ? "Removed login credentials for all registries" : "Removed login credentials for \(registry!)")
    }
}

extension IoPodman.ImageHistory: Encodable {
    private enum Keys: String, CodingKey { case id, created, createdBy, size, comment, tags }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .id)
        try container.encode(created, forKey: .created)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(size, forKey: .size)
        try container.encode(comment, forKey: .comment)
        try container.encode(tags, forKey: .tags)
    }
}

extension IoPodman.ImageSearchResult: Encodable {
    /// podman search --format json's keys.
    private enum Keys: String, CodingKey { case Index, Name, Description, Stars, Official, Automated }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(registry, forKey: .Index)
        try container.encode(name, forKey: .Name)
        try container.encode(description, forKey: .Description)
        try container.encode(starCount, forKey: .Stars)
        try container.encode(isOfficial ? "[OK]" : "", forKey: .Official)
        try container.encode(isAutomated ? "[OK]" : "", forKey: .Automated)
    }
}
