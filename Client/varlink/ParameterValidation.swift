import Varlink
import VarlinkIDL

/// Checks call parameters against a method's input type before anything is sent, and
/// reports every mismatch with its dotted path: unknown fields, missing required
/// fields, values of the wrong type.
struct ParameterValidator {
    struct Problem: CustomStringConvertible {
        /// `field`, `field.inner`, `list[2].name`; empty for the parameters object itself.
        var path: String
        var message: String
        var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    let interface: InterfaceDefinition
    private(set) var problems: [Problem] = []

    init(interface: InterfaceDefinition) {
        self.interface = interface
    }

    /// Every problem with `parameters` as the input of `method`.
    static func check(_ parameters: JSONValue, method: MethodDefinition, in interface: InterfaceDefinition) -> [Problem] {
        var validator = ParameterValidator(interface: interface)
        validator.check(parameters, structure: method.input, path: "")
        return validator.problems
    }

    private mutating func check(_ value: JSONValue, _ type: TypeExpression, path: String) {
        switch type {
        case .optional(let wrapped):
            if value != .null { check(value, wrapped, path: path) }
        case .named(let name, _):
            guard let definition = interface.type(named: name) else { return }  // the parser resolved it
            switch definition.body {
            case .structure(let structure): check(value, structure: structure, path: path, typeName: name)
            case .enumeration(let enumeration): check(value, enumeration: enumeration, path: path, typeName: name)
            }
        case .structure(let structure):
            check(value, structure: structure, path: path)
        case .enumeration(let enumeration):
            check(value, enumeration: enumeration, path: path)
        case .array(let element):
            guard case .array(let elements) = value else { return mismatch(value, type, path) }
            for (index, item) in elements.enumerated() {
                check(item, element, path: "\(path)[\(index)]")
            }
        case .dictionary(let element):
            guard case .object(let members) = value else { return mismatch(value, type, path) }
            for key in members.keys.sorted() {
                check(members[key]!, element, path: Self.join(path, key))
            }
        case .bool:
            if case .bool = value {} else { mismatch(value, type, path) }
        case .int:
            if case .int = value {} else { mismatch(value, type, path) }
        case .float:
            switch value {
            case .int, .float: break
            default: mismatch(value, type, path)
            }
        case .string:
            if case .string = value {} else { mismatch(value, type, path) }
        case .object:
            if case .object = value {} else { mismatch(value, type, path) }
        case .any:
            if value == .null { mismatch(value, type, path) }
        }
    }

    private mutating func check(_ value: JSONValue, structure: StructType, path: String, typeName: String? = nil) {
        guard case .object(let members) = value else {
            let expected = typeName.map { "\($0), an object" } ?? TypeExpression.structure(structure).canonicalText
            return report(path, "expected \(expected), got \(Self.describe(value))")
        }
        let names = structure.fields.map(\.name)
        for key in members.keys.sorted() where !names.contains(key) {
            var message = "unknown field"
            if let suggestion = Self.closest(to: key, among: names) {
                message += "; did you mean '\(suggestion)'?"
            } else if names.isEmpty {
                message += "; it takes no fields"
            } else {
                message += "; the fields are \(names.joined(separator: ", "))"
            }
            report(Self.join(path, key), message)
        }
        for field in structure.fields {
            let fieldPath = Self.join(path, field.name)
            guard let member = members[field.name] else {
                if case .optional = field.type { continue }
                report(fieldPath, "missing required field of type \(field.type.canonicalText)")
                continue
            }
            check(member, field.type, path: fieldPath)
        }
    }

    private mutating func check(_ value: JSONValue, enumeration: EnumType, path: String, typeName: String? = nil) {
        let cases = enumeration.cases.map(\.name)
        let expected = (typeName.map { "\($0), " } ?? "") + "one of " + cases.map { "\"\($0)\"" }.joined(separator: ", ")
        guard case .string(let text) = value, cases.contains(text) else {
            return report(path, "expected \(expected), got \(Self.describe(value))")
        }
    }

    private mutating func mismatch(_ value: JSONValue, _ type: TypeExpression, _ path: String) {
        var expected = type.canonicalText
        switch type {
        case .array: expected += " (an array)"
        case .dictionary: expected += " (an object)"
        case .any: expected += " (any value but null)"
        default: break
        }
        report(path, "expected \(expected), got \(Self.describe(value))")
    }

    private mutating func report(_ path: String, _ message: String) {
        problems.append(Problem(path: path, message: message))
    }

    /// `a.b`, or `a["odd key"]` for keys that are not plain names.
    static func join(_ path: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        if !plain { return "\(path)[\(PrintableJSON.encodedString(key))]" }
        return path.isEmpty ? key : "\(path).\(key)"
    }

    /// The value's JSON kind, and the value itself when it is short.
    static func describe(_ value: JSONValue) -> String {
        let kind =
            switch value {
            case .null: "null"
            case .bool: "bool"
            case .int: "int"
            case .float: "float"
            case .string: "string"
            case .array: "array"
            case .object: "object"
            }
        if value == .null { return kind }
        let text = value.jsonText
        return text.count <= 40 ? "\(kind) \(text)" : "\(kind) \(text.prefix(37))..."
    }

    /// The name at most two edits away from `key`, if one is.
    static func closest(to key: String, among names: [String]) -> String? {
        names.map { (name: $0, distance: editDistance(key.lowercased(), $0.lowercased())) }
            .filter { $0.distance <= 2 && $0.distance < max(key.count, 2) }
            .min { $0.distance < $1.distance }?.name
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension MethodDefinition {
    /// `method Name(input) -> (output)` on one line.
    var signature: String {
        "method \(name)\(TypeExpression.structure(input).canonicalText) -> \(TypeExpression.structure(output).canonicalText)"
    }
}
