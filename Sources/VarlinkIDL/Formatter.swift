extension InterfaceDefinition {
    /// Canonical text in libvarlink's layout (§3.5), ending with exactly one "\n".
    public var canonicalDescription: String {
        var formatter = CanonicalFormatter()
        formatter.write(self)
        return formatter.output
    }
}

extension TypeExpression {
    /// The type as written in canonical single-line form, e.g. `?[]string`,
    /// `(a: int, b: string)`, `(one, two)`, `[string]()`.
    public var canonicalText: String {
        var formatter = CanonicalFormatter()
        formatter.write(self, indent: nil)
        return formatter.output
    }
}

/// Writes an interface the way libvarlink's `varlink format` does (lib/interface.c
/// `varlink_interface_write_description`, lib/type.c `is_multiline`/`varlink_type_print`).
///
/// `indent == nil` is libvarlink's `indent = -1`: everything on one line, docs dropped.
/// Otherwise each struct or enum decides for itself whether it is multi-line, and nested
/// types are written one indentation level deeper whether or not their parent broke lines.
/// That mirrors libvarlink even where it looks odd (a multi-line struct inside `?` inside
/// a one-line struct), because matching the reference output byte for byte is the point.
struct CanonicalFormatter {
    /// libvarlink's "no longer than half a line".
    static let maxSingleLineWidth = 40

    private(set) var output = ""

    mutating func write(_ interface: InterfaceDefinition) {
        writeDoc(interface.doc, indent: 0)
        output += "interface \(interface.name)"
        for member in interface.members {
            output += "\n\n"
            writeDoc(member.doc, indent: 0)
            switch member {
            case .type(let type):
                output += "type \(type.name) "
                write(type.body.asTypeExpression, indent: 0)
            case .method(let method):
                output += "method \(method.name)"
                write(method.input, indent: 0)
                output += " -> "
                write(method.output, indent: 0)
            case .error(let error):
                output += "error \(error.name) "
                write(error.parameters, indent: 0)
            }
        }
        output += "\n"
    }

    mutating func write(_ type: TypeExpression, indent: Int?) {
        switch type {
        case .bool: output += "bool"
        case .int: output += "int"
        case .float: output += "float"
        case .string: output += "string"
        case .object: output += "object"
        case .any: output += "any"
        case .named(let name, _): output += name
        case .optional(let wrapped):
            output += "?"
            write(wrapped, indent: indent)
        case .array(let element):
            output += "[]"
            write(element, indent: indent)
        case .dictionary(let value):
            output += "[string]"
            write(value, indent: indent)
        case .structure(let structure):
            write(structure, indent: indent)
        case .enumeration(let enumeration):
            write(enumeration, indent: indent)
        }
    }

    private mutating func write(_ structure: StructType, indent: Int?) {
        let entries = structure.fields.map { Entry(name: $0.name, doc: $0.doc, type: $0.type) }
        writeEntries(entries, multiline: indent.map { _ in Self.isMultiline(structure) } ?? false, indent: indent)
    }

    private mutating func write(_ enumeration: EnumType, indent: Int?) {
        let entries = enumeration.cases.map { Entry(name: $0.name, doc: $0.doc, type: nil) }
        writeEntries(entries, multiline: indent.map { _ in Self.isMultiline(enumeration) } ?? false, indent: indent)
    }

    /// A struct field (with a type) or an enum case (without).
    private struct Entry {
        var name: String
        var doc: [String]
        var type: TypeExpression?
    }

    /// The shared layout of structs and enums. Multi-line: one entry per line, a blank line
    /// before a documented entry unless it is first or follows another documented entry,
    /// and a blank line after a documented entry unless it is last.
    private mutating func writeEntries(_ entries: [Entry], multiline: Bool, indent: Int?) {
        output += "("
        let inner = indent.map { $0 + 1 }
        var previousHadDoc = false
        for (index, entry) in entries.enumerated() {
            if multiline, let inner {
                output += "\n"
                if !entry.doc.isEmpty {
                    if index > 0 && !previousHadDoc { output += "\n" }
                    writeDoc(entry.doc, indent: inner)
                }
                previousHadDoc = !entry.doc.isEmpty
                output += Self.indentation(inner)
            }
            output += entry.name
            if let type = entry.type {
                output += ": "
                write(type, indent: inner)
            }
            if index + 1 < entries.count {
                output += ","
                if !multiline {
                    output += " "
                } else if !entry.doc.isEmpty {
                    output += "\n"
                }
            }
        }
        if multiline, let indent {
            output += "\n" + Self.indentation(indent)
        }
        output += ")"
    }

    /// One `# text` line per doc line (a bare `#` for an empty one). Unlike libvarlink, a
    /// trailing empty doc line is kept, so the text parses back to the same tree. A doc line
    /// containing a line break (only possible in a tree built in code) is split so the output
    /// still parses back to comments.
    private mutating func writeDoc(_ doc: [String], indent: Int) {
        for entry in doc {
            for line in Self.splitLines(entry) {
                output += Self.indentation(indent) + (line.isEmpty ? "#" : "# " + line) + "\n"
            }
        }
    }

    private static func indentation(_ level: Int) -> String {
        String(repeating: "  ", count: level)
    }

    /// Splits where the lexer would end a line, so nothing else changes meaning.
    private static func splitLines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { character in
            character == "\n" || character == "\r" || character == "\r\n" || character == "\u{2028}" || character == "\u{2029}"
        }
    }

    // MARK: libvarlink's is_multiline

    /// More than two fields, any documented field, any field whose type is itself a struct
    /// or enum (even `()`; only directly: behind `?`, `[]` or `[string]` it doesn't count),
    /// or wider than 40 characters on one line.
    static func isMultiline(_ structure: StructType) -> Bool {
        if structure.fields.isEmpty { return false }
        if structure.fields.count > 2 { return true }
        for field in structure.fields {
            if !field.doc.isEmpty { return true }
            switch field.type {
            case .structure, .enumeration: return true
            default: break
            }
        }
        var width = 0
        measure(structure, &width)
        return width > maxSingleLineWidth
    }

    /// Enums are never multi-line for their number of cases alone.
    static func isMultiline(_ enumeration: EnumType) -> Bool {
        if enumeration.cases.isEmpty { return false }
        if enumeration.cases.contains(where: { !$0.doc.isEmpty }) { return true }
        var width = 0
        measure(enumeration, &width)
        return width > maxSingleLineWidth
    }

    /// Adds the single-line width (in UTF-8 bytes, like libvarlink's `strlen`) to `width`,
    /// stopping as soon as it exceeds the limit so that the check costs O(1) per node.
    private static func measure(_ type: TypeExpression, _ width: inout Int) {
        guard width <= maxSingleLineWidth else { return }
        switch type {
        case .bool: width += 4
        case .int: width += 3
        case .float: width += 5
        case .string: width += 6
        case .object: width += 6
        case .any: width += 3
        case .named(let name, _): width += name.utf8.count
        case .optional(let wrapped):
            width += 1
            measure(wrapped, &width)
        case .array(let element):
            width += 2
            measure(element, &width)
        case .dictionary(let value):
            width += 8
            measure(value, &width)
        case .structure(let structure):
            measure(structure, &width)
        case .enumeration(let enumeration):
            measure(enumeration, &width)
        }
    }

    private static func measure(_ structure: StructType, _ width: inout Int) {
        width += 2  // "(" and ")"
        for (index, field) in structure.fields.enumerated() {
            guard width <= maxSingleLineWidth else { return }
            width += field.name.utf8.count + 2 + (index > 0 ? 2 : 0)  // ": " and ", "
            measure(field.type, &width)
        }
    }

    private static func measure(_ enumeration: EnumType, _ width: inout Int) {
        width += 2
        for (index, enumCase) in enumeration.cases.enumerated() {
            guard width <= maxSingleLineWidth else { return }
            width += enumCase.name.utf8.count + (index > 0 ? 2 : 0)
        }
    }
}
