import Foundation
import Varlink

/// The part of Go's text/template that people script podman with: `--format
/// '{{.State.Pid}}'`, `{{.Name}} {{.Config.Image}}`, `{{json .Config}}`,
/// `{{index .Config.Labels "app"}}`, `{{join .Args ","}}`, `{{len .Mounts}}`,
/// `{{upper .Name}}`, `{{lower .State.Status}}`, applied to a JSON document.
struct GoTemplate {
    enum Part: Equatable {
        case text(String)
        case action(String)
    }

    let parts: [Part]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ source: String) throws {
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw Failure(description: "template: unclosed action in \"\(source)\"")
            }
            var action = String(rest[open.upperBound..<close.lowerBound])
            // {{- and -}} trim; the spaces they trim are not in the actions here.
            if action.hasPrefix("-") { action.removeFirst() }
            if action.hasSuffix("-") { action.removeLast() }
            parts.append(.action(action.trimmingCharacters(in: .whitespaces)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    /// The template applied to `document`.
    func render(_ document: JSONValue) throws -> String {
        var output = ""
        for part in parts {
            switch part {
            case .text(let text):
                output += text.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
            case .action(let action):
                output += Self.format(try evaluate(action, document))
            }
        }
        return output
    }

    private func evaluate(_ action: String, _ document: JSONValue) throws -> JSONValue {
        let words = try Self.words(action)
        guard let first = words.first else { throw Failure(description: "template: empty action") }
        func argument(_ word: String) throws -> JSONValue {
            if word.hasPrefix("\"") { return .string(String(word.dropFirst().dropLast())) }
            if let number = Int(word) { return .int(number) }
            guard word.hasPrefix(".") else { throw Failure(description: "template: \"\(word)\" is not a field (.Name) or a string") }
            return try Self.field(word, in: document)
        }
        switch first {
        case "json":
            guard words.count == 2 else { throw Failure(description: "template: json takes one argument") }
            return .string(Self.json(try argument(words[1])))
        case "index":
            guard words.count == 3 else { throw Failure(description: "template: index takes a map or list and a key") }
            switch (try argument(words[1]), try argument(words[2])) {
            case (.object(let map), .string(let key)): return map[key] ?? .null
            case (.array(let list), .int(let key)) where list.indices.contains(key): return list[key]
            default: return .null
            }
        case "join":
            guard words.count == 3, case .string(let separator) = try argument(words[2]) else {
                throw Failure(description: "template: join takes a list and a separator")
            }
            guard case .array(let list) = try argument(words[1]) else { return .string("") }
            return .string(list.map(Self.format).joined(separator: separator))
        case "len":
            guard words.count == 2 else { throw Failure(description: "template: len takes one argument") }
            switch try argument(words[1]) {
            case .array(let list): return .int(list.count)
            case .object(let map): return .int(map.count)
            case .string(let text): return .int(text.count)
            default: return .int(0)
            }
        case "upper", "lower":
            guard words.count == 2 else { throw Failure(description: "template: \(first) takes one argument") }
            let text = Self.format(try argument(words[1]))
            return .string(first == "upper" ? text.uppercased() : text.lowercased())
        default:
            guard words.count == 1 else { throw Failure(description: "template: unknown function \"\(first)\"; use json, index, join, len, upper or lower") }
            return try argument(first)
        }
    }

    /// `.State.Pid` in the document; `.` is the document itself. A missing field is
    /// an error, as Go's is for a struct.
    private static func field(_ path: String, in document: JSONValue) throws -> JSONValue {
        var value = document
        for key in path.split(separator: ".") {
            guard case .object(let map) = value else {
                throw Failure(description: "template: can't evaluate field \(key) in \(path): not an object")
            }
            guard let member = map[String(key)] ?? map.first(where: { $0.key.lowercased() == key.lowercased() })?.value else {
                throw Failure(description: "template: can't evaluate field \(key) in \(path)")
            }
            value = member
        }
        return value
    }

    /// Words of an action: quoted strings stay whole.
    private static func words(_ action: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        for character in action {
            if character == "\"" {
                current.append(character)
                if quoted {
                    words.append(current)
                    current = ""
                }
                quoted.toggle()
            } else if character == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !quoted else { throw Failure(description: "template: unterminated string in {{\(action)}}") }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Go's default printing: `<no value>` for nothing, `[a b]` for lists,
    /// `map[k:v]` for maps.
    static func format(_ value: JSONValue) -> String {
        switch value {
        case .null: "<no value>"
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .float(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .array(let list): "[" + list.map(format).joined(separator: " ") + "]"
        case .object(let map): "map[" + map.keys.sorted().map { "\($0):\(format(map[$0]!))" }.joined(separator: " ") + "]"
        }
    }

    /// Go's json.Marshal: compact, map keys sorted.
    static func json(_ value: JSONValue) -> String {
        switch value {
        case .object(let map):
            "{" + map.keys.sorted().map { "\(json(.string($0))):\(json(map[$0]!))" }.joined(separator: ",") + "}"
        case .array(let list): "[" + list.map(json).joined(separator: ",") + "]"
        default: (try? value.jsonBytes()).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }
    }
}
