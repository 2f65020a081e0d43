import Foundation

/// podman container runlabel: an image carries a command line in a label (`install`,
/// `run`, ...), written for podman; this runs it on this machine, with `podman` meaning
/// the podlink CLI talking to this runtime's daemon.
public struct RunlabelRequest: Sendable {
    public var image: String
    public var label: String
    /// The container name the command gets for NAME; the image's base name when empty.
    public var name: String
    /// $OPT1, $OPT2, $OPT3.
    public var options: [String: String]
    public var extraArguments: [String]
    /// What `podman` (or `docker`) at the start of the command becomes.
    public var cli: [String]
    /// Added to the command's environment (the CLI's address, for one).
    public var environment: [String: String]

    public init(
        image: String, label: String, name: String = "", options: [String: String] = [:], extraArguments: [String] = [],
        cli: [String], environment: [String: String] = [:]
    ) {
        self.image = image
        self.label = label
        self.name = name
        self.options = options
        self.extraArguments = extraArguments
        self.cli = cli
        self.environment = environment
    }
}

extension Runtime {
    /// The command the label holds, with podman's substitutions: IMAGE and NAME (bare,
    /// `$`-prefixed or as `X=X`), $OPT1-3, $PWD; any other `$VAR` is empty.
    public func runlabelCommand(_ request: RunlabelRequest) throws(LibpodError) -> [String] {
        let image = try images.image(request.image)
        guard let text = image.config.labels.first(where: { $0.key.lowercased() == request.label.lowercased() })?.value,
            !text.isEmpty
        else {
            throw .invalidArgument("image \(request.image) has no label \"\(request.label)\"; its labels: \(image.config.labels.keys.sorted().joined(separator: ", "))")
        }
        let imageName = image.names.first ?? image.id
        let name = request.name.isEmpty ? Self.baseName(imageName) : request.name
        var words = try ShellWords.split(text)
        guard let first = words.first else { throw .invalidArgument("the label \"\(request.label)\" of \(request.image) is empty") }
        if ["podman", "docker"].contains(first) || first.hasSuffix("/podman") || first.hasSuffix("/docker") {
            words = request.cli + words.dropFirst()
        }
        var substituted: [String] = []
        for word in words + request.extraArguments {
            switch word {
            case "IMAGE", "$IMAGE": substituted.append(imageName)
            case "IMAGE=IMAGE", "IMAGE=$IMAGE": substituted.append("IMAGE=\(imageName)")
            case "NAME", "$NAME": substituted.append(name)
            case "NAME=NAME", "NAME=$NAME": substituted.append("NAME=\(name)")
            default: substituted.append(Self.expand(word, image: imageName, name: name, options: request.options))
            }
        }
        return substituted
    }

    /// Runs the label's command on this machine and waits for it; its output comes back
    /// with its exit status.
    public func runLabel(_ request: RunlabelRequest, timeout: Duration = .seconds(600)) async throws(LibpodError) -> (status: Int32, output: String) {
        let command = try runlabelCommand(request)
        guard let program = command.first else { throw .invalidArgument("the runlabel command is empty") }
        let path = program.hasPrefix("/") ? program : (ExecutableDiscovery.search(program) ?? program)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw .invalidArgument("the label's program \"\(program)\" is not an executable on this machine")
        }
        let image = try images.image(request.image)
        let name = request.name.isEmpty ? Self.baseName(image.names.first ?? image.id) : request.name
        var environment = ProcessInfo.processInfo.environment
        environment["NAME"] = name
        environment["IMAGE"] = image.names.first ?? image.id
        for (key, value) in request.options { environment[key.uppercased()] = value }
        environment["PODMAN_RUNLABEL_NESTED"] = "1"
        environment.merge(request.environment) { $1 }
        guard let output = try await ProcessRunner.run(path, Array(command.dropFirst()), environment: environment, timeout: timeout) else {
            throw .timedOut("the runlabel command did not finish within \(timeout)")
        }
        return (output.status, output.standardOutput + output.standardError)
    }

    private static func baseName(_ reference: String) -> String {
        let last = reference.split(separator: "/").last.map(String.init) ?? reference
        return String(last.prefix { $0 != ":" && $0 != "@" })
    }

    private static func expand(_ word: String, image: String, name: String, options: [String: String]) -> String {
        guard word.contains("$") else { return word }
        var result = ""
        var index = word.startIndex
        while index < word.endIndex {
            guard word[index] == "$" else {
                result.append(word[index])
                index = word.index(after: index)
                continue
            }
            var end = word.index(after: index)
            var braced = false
            if end < word.endIndex, word[end] == "{" {
                braced = true
                end = word.index(after: end)
            }
            let start = end
            while end < word.endIndex, word[end].isLetter || word[end].isNumber || word[end] == "_" { end = word.index(after: end) }
            let variable = String(word[start..<end])
            if braced, end < word.endIndex, word[end] == "}" { end = word.index(after: end) }
            switch variable {
            case "IMAGE": result += image
            case "NAME": result += name
            case "OPT1", "OPT2", "OPT3": result += options[variable.lowercased()] ?? ""
            case "PWD": result += FileManager.default.currentDirectoryPath
            default: break
            }
            index = end
        }
        return result
    }
}

/// POSIX shell word splitting without expansion: quotes and backslashes, as shlex does.
enum ShellWords {
    static func split(_ text: String) throws(LibpodError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                inWord = true
                continue
            }
            switch (quote, character) {
            case (nil, "\\"), ("\"", "\\"):
                escaped = true
            case (nil, "'"), (nil, "\""):
                quote = character
                inWord = true
            case ("'", "'"), ("\"", "\""):
                quote = nil
            case (nil, " "), (nil, "\t"), (nil, "\n"):
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { throw .invalidArgument("unbalanced quotes in \"\(text)\"") }
        if inWord { words.append(current) }
        return words
    }
}
