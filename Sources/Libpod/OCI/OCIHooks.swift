import Foundation

/// OCI hooks from hooks_dir, as podman runs them: each `*.json` file (schema 1.0.0) says
/// which program to run, at which stages of the container's life, and for which
/// containers (always, by annotation, by command, when it has bind mounts). A file in a
/// later directory replaces one of the same name in an earlier one.
struct OCIHooks: Sendable {
    struct Definition: Sendable, Equatable {
        var file: String
        var hook: OCISpec.Hook
        var stages: [String]
        var always: Bool
        /// Annotation key pattern -> value pattern; all must match some annotation.
        var annotations: [String: String]
        /// Patterns, any of which matches the command's program.
        var commands: [String]
        var hasBindMounts: Bool?
    }

    static let stages: Set<String> = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]

    let definitions: [Definition]

    /// Reads every directory of `directories`; a missing one is an error only when
    /// `missingIsFatal` (hooks_dir_not_exist_fatal). A malformed file is always an error
    /// that names it.
    init(directories: [String], missingIsFatal: Bool) throws(LibpodError) {
        var byName: [String: Definition] = [:]
        for directory in directories {
            guard FileSystem.isDirectory(directory) else {
                if missingIsFatal {
                    throw .config(ConfigError(
                        file: "(hooks_dir)", key: "hooks_dir",
                        message: "\(directory) does not exist; create it or set hooks_dir_not_exist_fatal = false"))
                }
                continue
            }
            for name in FileSystem.list(directory).sorted() where name.hasSuffix(".json") {
                byName[name] = try Self.read(directory + "/" + name)
            }
        }
        definitions = byName.keys.sorted().map { byName[$0]! }
    }

    private static func read(_ path: String) throws(LibpodError) -> Definition {
        struct File: Decodable {
            struct When: Decodable {
                var always: Bool?
                var annotations: [String: String]?
                var commands: [String]?
                var hasBindMounts: Bool?
            }

            var version: String
            var hook: OCISpec.Hook
            var when: When
            var stages: [String]
        }
        func invalid(_ reason: String) -> LibpodError {
            .config(ConfigError(file: path, message: "not a usable OCI hook: \(reason)"))
        }
        guard let bytes = try FileSystem.read(path) else { throw invalid("it disappeared while being read") }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw invalid("\(error)")
        }
        guard file.version == "1.0.0" else { throw invalid("version \"\(file.version)\" is not supported; write version 1.0.0") }
        guard file.hook.path.hasPrefix("/") else { throw invalid("hook.path must be absolute") }
        guard !file.stages.isEmpty, file.stages.allSatisfy(stages.contains) else {
            throw invalid("stages \(file.stages) must be some of \(stages.sorted().joined(separator: ", "))")
        }
        for pattern in Array((file.when.annotations ?? [:]).keys) + Array((file.when.annotations ?? [:]).values) + (file.when.commands ?? []) {
            guard (try? NSRegularExpression(pattern: pattern)) != nil else { throw invalid("\"\(pattern)\" is not a regular expression") }
        }
        let condition = file.when
        guard condition.always != nil || condition.annotations != nil || condition.commands != nil || condition.hasBindMounts != nil else {
            throw invalid("\"when\" names no condition (always, annotations, commands, hasBindMounts)")
        }
        return Definition(
            file: path, hook: file.hook, stages: file.stages, always: condition.always ?? false,
            annotations: condition.annotations ?? [:], commands: condition.commands ?? [], hasBindMounts: condition.hasBindMounts)
    }

    /// The hooks that apply to a container, by stage, in file name order.
    func hooks(for config: ContainerConfig) -> OCISpec.Hooks? {
        func matches(_ pattern: String, _ text: String) -> Bool {
            text.range(of: "^(?:" + pattern + ")$", options: .regularExpression) != nil
        }
        var hooks = OCISpec.Hooks()
        var any = false
        for definition in definitions {
            var applies = definition.always
            if !applies, !definition.annotations.isEmpty {
                applies = definition.annotations.allSatisfy { keyPattern, valuePattern in
                    config.annotations.contains { matches(keyPattern, $0.key) && matches(valuePattern, $0.value) }
                }
            }
            if !applies, let program = config.command.first {
                applies = definition.commands.contains { matches($0, program) }
            }
            if !applies, let wanted = definition.hasBindMounts {
                applies = wanted == !config.mounts.isEmpty
            }
            guard applies else { continue }
            any = true
            for stage in definition.stages {
                switch stage {
                case "prestart": hooks.prestart = (hooks.prestart ?? []) + [definition.hook]
                case "createRuntime": hooks.createRuntime = (hooks.createRuntime ?? []) + [definition.hook]
                case "createContainer": hooks.createContainer = (hooks.createContainer ?? []) + [definition.hook]
                case "startContainer": hooks.startContainer = (hooks.startContainer ?? []) + [definition.hook]
                case "poststart": hooks.poststart = (hooks.poststart ?? []) + [definition.hook]
                default: hooks.poststop = (hooks.poststop ?? []) + [definition.hook]
                }
            }
        }
        return any ? hooks : nil
    }
}

/// default_mounts_file: `/host/path:/container/path` lines, bind-mounted read-only into
/// every container (podman's mounts.conf, used for secrets and certificates).
enum DefaultMounts {
    static func read(_ path: String) throws(LibpodError) -> [BindMount] {
        guard !path.isEmpty else { return [] }
        guard let text = try FileSystem.readString(path) else {
            throw .config(ConfigError(file: "(options)", key: "default_mounts_file", message: "\(path) does not exist"))
        }
        var mounts: [BindMount] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ":").map(String.init)
            guard parts.count == 2, parts[0].hasPrefix("/"), parts[1].hasPrefix("/") else {
                throw .config(ConfigError(file: path, line: number + 1, message: "\"\(line)\" must be /host/path:/container/path"))
            }
            mounts.append(BindMount(source: parts[0], destination: parts[1], readOnly: true))
        }
        return mounts
    }
}
