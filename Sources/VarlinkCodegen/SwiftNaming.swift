/// Turns varlink names into Swift identifiers. The wire name is always kept separately;
/// these only decide what Swift code calls things.
enum SwiftNaming {
    /// Words that cannot be used as identifiers without backticks.
    static let keywords: Set<String> = [
        "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate", "func",
        "import", "init", "inout", "internal", "let", "nonisolated", "open", "operator", "package", "precedencegroup",
        "private", "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias", "var", "break",
        "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in",
        "repeat", "return", "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self",
        "Self", "super", "throws", "true", "try", "_",
    ]

    /// Type names that would mean something else when nested (`Foo.Type`, `Foo.Protocol`)
    /// or shadow names the generated code relies on.
    static let reservedTypeNames: Set<String> = ["Type", "Protocol", "Self", "Any", "Swift", "Varlink"]

    /// Backticks for the keywords that cannot be argument labels at a call site.
    static func escapedLabel(_ identifier: String) -> String {
        ["inout", "var", "let"].contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// `client_id` -> `clientId`, `GetInfo` -> `getInfo`, `HTTPProxy` -> `httpProxy`.
    static func lowerCamelCase(_ name: String) -> String {
        let parts = name.split(separator: "_", omittingEmptySubsequences: true).map(String.init)
        guard let first = parts.first else { return name }
        var result = lowercasedLeadingCapitals(first)
        for part in parts.dropFirst() {
            result += part.prefix(1).uppercased() + part.dropFirst()
        }
        return result
    }

    /// `client_id` -> `ClientId`, `foo` -> `Foo`.
    static func upperCamelCase(_ name: String) -> String {
        name.split(separator: "_", omittingEmptySubsequences: true)
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }
            .joined()
    }

    /// `org.varlink.certification` -> `OrgVarlinkCertification`; `io.podman` -> `IoPodman`.
    static func namespaceName(forInterface name: String) -> String {
        name.split(whereSeparator: { $0 == "." || $0 == "-" })
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }
            .joined()
    }

    /// Backticks for keywords, nothing otherwise.
    static func escaped(_ identifier: String) -> String {
        keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// A leading run of capitals becomes lower case, but the last capital of a run that
    /// begins a new word stays (`HTTPProxy` -> `httpProxy`, `ID` -> `id`).
    private static func lowercasedLeadingCapitals(_ word: String) -> String {
        let characters = Array(word)
        var upperRun = 0
        while upperRun < characters.count, characters[upperRun].isUppercase { upperRun += 1 }
        switch upperRun {
        case 0:
            return word
        case characters.count, 1:
            return String(characters[..<upperRun]).lowercased() + String(characters[upperRun...])
        default:
            let lowered = String(characters[..<(upperRun - 1)]).lowercased()
            return lowered + String(characters[(upperRun - 1)...])
        }
    }
}

/// Gives out names within one scope, so that two things never get the same Swift name
/// even when their varlink names convert to the same identifier.
struct NameScope {
    private var taken: Set<String>

    init(reserved: Set<String> = []) {
        taken = reserved
    }

    /// `preferred` if free, else `preferred_`, `preferred__`, ...: deterministic, so the
    /// same interface always generates the same code.
    mutating func claim(_ preferred: String) -> String {
        var name = preferred
        while taken.contains(name) { name += "_" }
        taken.insert(name)
        return name
    }
}
