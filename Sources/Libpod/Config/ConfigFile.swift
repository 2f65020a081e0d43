import Glibc
import TOMLKit

/// Where a runtime's configuration file comes from.
public enum ConfigFileSource: Sendable, Equatable {
    /// The seed's rule: `/etc/containers/podlink.conf` when it exists, else
    /// `/usr/share/containers/podlink.conf`; rootless, `~/.config/containers/podlink.conf`.
    /// Whichever is chosen replaces the defaults key by key; none at all is fine.
    case standard
    /// This file, which must exist (the seed's NewRuntimeFromConfig).
    case file(String)
    /// Built-in defaults only.
    case none
}

enum ConfigFile {
    static let systemPath = "/usr/share/containers/podlink.conf"
    static let overridePath = "/etc/containers/podlink.conf"

    /// The file `source` names, or nil when the standard locations hold none.
    static func locate(_ source: ConfigFileSource, uid: uid_t, environment: [String: String]) throws(LibpodError) -> String? {
        switch source {
        case .none: return nil
        case .file(let path):
            guard FileSystem.exists(path) else {
                throw .config(ConfigError(file: path, message: "configuration file not found; give an existing file or leave it out"))
            }
            return path
        case .standard:
            if uid != 0 {
                guard let home = environment["HOME"], !home.isEmpty else { return nil }
                let path = home + "/.config/containers/podlink.conf"
                return FileSystem.exists(path) ? path : nil
            }
            if FileSystem.exists(overridePath) { return overridePath }
            return FileSystem.exists(systemPath) ? systemPath : nil
        }
    }

    /// Reads `path` over `config`. Unknown keys, wrong types and bad TOML are errors that
    /// name the file, the line and the key.
    static func apply(path: String, to config: inout RuntimeConfig) throws(LibpodError) {
        guard let text = try FileSystem.readString(path) else {
            throw .config(ConfigError(file: path, message: "configuration file not found"))
        }
        try apply(text: text, file: path, to: &config)
    }

    static func apply(text: String, file: String, to config: inout RuntimeConfig) throws(LibpodError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .config(ConfigError(
                file: file, line: error.source.begin.line, column: error.source.begin.column,
                message: "not valid TOML: \(error.description)"))
        } catch {
            throw .config(ConfigError(file: file, message: "not valid TOML: \(error)"))
        }
        for (key, value) in table {
            guard let setting = ConfigKeys.byName[key] else {
                let known = ConfigKeys.all.map(\.name).sorted().joined(separator: ", ")
                throw .config(ConfigError(
                    file: file, line: line(of: key, in: text), key: key,
                    message: "unknown key; the keys podlink.conf knows are: \(known)"))
            }
            do {
                try setting.apply(value, &config)
            } catch {
                throw .config(ConfigError(file: file, line: line(of: key, in: text), key: key, message: error.message))
            }
        }
    }

    /// The 1-based line where `key` is assigned at the top level, found in the text because
    /// the TOML library keeps no positions for values.
    static func line(of key: String, in text: String) -> Int? {
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var rest = rawLine.drop { $0 == " " || $0 == "\t" }
            if rest.hasPrefix("[") {
                // A table header: the top-level assignments are over, but the header may be the key.
                let name = String(rest.dropFirst().prefix { $0 != "]" }.filter { $0 != " " && $0 != "\t" })
                if name == key || name == "\"\(key)\"" { return number }
                continue
            }
            for candidate in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(candidate) {
                rest = rest.dropFirst(candidate.count).drop { $0 == " " || $0 == "\t" }
                if rest.hasPrefix("=") || rest.hasPrefix(".") { return number }
            }
        }
        return nil
    }
}

/// A value of the wrong type or out of range, said in words.
struct ConfigValueError: Error {
    var message: String
}

/// One key of podlink.conf: its TOML name and how it lands in RuntimeConfig.
struct ConfigKey: Sendable {
    var name: String
    var apply: @Sendable (any TOMLValueConvertible, inout RuntimeConfig) throws(ConfigValueError) -> Void
}

enum ConfigKeys {
    static let all: [ConfigKey] = [
        string("image_default_transport") { $0.imageDefaultTransport = $1 },
        string("signature_policy_path") { $0.signaturePolicyPath = $1 },
        strings("runtime_path") { $0.runtimePath = $1 },
        strings("conmon_path") { $0.conmonPath = $1 },
        strings("conmon_env_vars") { $0.conmonEnvVars = $1 },
        choice("cgroup_manager") { $0.cgroupManager = $1 },
        absolutePath("static_dir") { $0.staticDir = $1 },
        absolutePath("tmp_dir") { $0.tmpDir = $1 },
        integer("max_log_size") { $0.maxLogSize = $1 },
        bool("no_pivot_root") { $0.noPivotRoot = $1 },
        string("cni_config_dir") { $0.cniConfigDir = $1 },
        strings("cni_plugin_dir") { $0.cniPluginDir = $1 },
        string("cni_default_network") { $0.cniDefaultNetwork = $1 },
        strings("hooks_dir") { $0.hooksDir = $1 },
        bool("hooks_dir_not_exist_fatal") { $0.hooksDirNotExistFatal = $1 },
        string("default_mounts_file") { $0.defaultMountsFile = $1 },
        string("namespace") { $0.namespace = $1 },
        string("infra_image") { $0.infraImage = $1 },
        string("infra_command") { $0.infraCommand = $1 },
        bool("enable_port_reservation") { $0.enablePortReservation = $1 },
        bool("label") { $0.enableLabeling = $1 },
        choice("state_type") { $0.stateType = $1 },
        choice("storage_driver") { $0.storageDriver = $1 },
        string("overlay_mount_program") { $0.overlayMountProgram = $1 },
        string("storage_root") { $0.storageRoot = $1 },
        integer("max_transfer_size") { $0.maxTransferSize = $1 },
    ]

    static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    private static func typeName(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a float"
        case .string: "a string"
        case .array: "an array"
        case .table: "a table"
        default: "a date or time"
        }
    }

    private static func mismatch(_ expected: String, _ value: any TOMLValueConvertible) -> ConfigValueError {
        ConfigValueError(message: "expected \(expected), found \(typeName(value)) \(value.debugDescription)")
    }

    private static func string(_ name: String, _ set: @escaping @Sendable (inout RuntimeConfig, String) -> Void) -> ConfigKey {
        ConfigKey(name: name) { value, config throws(ConfigValueError) in
            guard let text = value.string else { throw mismatch("a string", value) }
            set(&config, text)
        }
    }

    private static func absolutePath(_ name: String, _ set: @escaping @Sendable (inout RuntimeConfig, String) -> Void) -> ConfigKey {
        ConfigKey(name: name) { value, config throws(ConfigValueError) in
            guard let text = value.string else { throw mismatch("a string", value) }
            guard text.hasPrefix("/") else { throw ConfigValueError(message: "expected an absolute path, found \"\(text)\"") }
            set(&config, text)
        }
    }

    private static func strings(_ name: String, _ set: @escaping @Sendable (inout RuntimeConfig, [String]) -> Void) -> ConfigKey {
        ConfigKey(name: name) { value, config throws(ConfigValueError) in
            guard let array = value.array else { throw mismatch("an array of strings", value) }
            var result: [String] = []
            for (index, element) in array.enumerated() {
                guard let text = element.string else {
                    throw ConfigValueError(message: "element \(index) must be a string, found \(typeName(element))")
                }
                result.append(text)
            }
            set(&config, result)
        }
    }

    private static func bool(_ name: String, _ set: @escaping @Sendable (inout RuntimeConfig, Bool) -> Void) -> ConfigKey {
        ConfigKey(name: name) { value, config throws(ConfigValueError) in
            guard let flag = value.bool else { throw mismatch("true or false", value) }
            set(&config, flag)
        }
    }

    private static func integer(_ name: String, _ set: @escaping @Sendable (inout RuntimeConfig, Int64) -> Void) -> ConfigKey {
        ConfigKey(name: name) { value, config throws(ConfigValueError) in
            guard let number = value.int else { throw mismatch("an integer", value) }
            set(&config, Int64(number))
        }
    }

    private static func choice<Choice: RawRepresentable<String> & CaseIterable & Sendable>(
        _ name: String, _ set: @escaping @Sendable (inout RuntimeConfig, Choice) -> Void
    ) -> ConfigKey {
        ConfigKey(name: name) { value, config throws(ConfigValueError) in
            let allowed = Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            guard let text = value.string else { throw mismatch(allowed, value) }
            guard let chosen = Choice(rawValue: text) else {
                throw ConfigValueError(message: "expected \(allowed), found \"\(text)\"")
            }
            set(&config, chosen)
        }
    }
}
