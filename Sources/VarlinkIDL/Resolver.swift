/// The semantic checks that follow parsing: names, references and duplicates.
///
/// Kept apart from the parser so that every such error in a file is reported at once, and
/// so that trees built in code (not parsed) can be checked the same way.
public enum Resolver {
    /// Every problem in `interface`, in source order of the members. `source` is the text
    /// the locations refer to; it only supplies the quoted lines of the diagnostics.
    public static func validate(_ interface: InterfaceDefinition, fileName: String, source: String) -> [Diagnostic] {
        var checker = Checker(interface: interface, fileName: fileName, source: source)
        checker.run()
        return checker.diagnostics
    }
}

private struct Checker {
    let interface: InterfaceDefinition
    let fileName: String
    let source: String
    /// The first definition of each name: types, methods and errors share one namespace.
    var definitions: [String: Member] = [:]
    var firstIndex: [String: Int] = [:]
    var diagnostics: [Diagnostic] = []
    private var lines: SourceLines?

    init(interface: InterfaceDefinition, fileName: String, source: String) {
        self.interface = interface
        self.fileName = fileName
        self.source = source
    }

    mutating func run() {
        // Names can only be wrong in trees built in code; the parser enforces them.
        if !NameRules.isInterfaceName(interface.name) {
            report("invalid interface name '\(interface.name)'", at: interface.location)
        }
        for (index, member) in interface.members.enumerated() where definitions[member.name] == nil {
            definitions[member.name] = member
            firstIndex[member.name] = index
        }
        for (index, member) in interface.members.enumerated() {
            if !NameRules.isMemberName(member.name) {
                report("invalid name '\(member.name)' for \(article(member.keyword)) \(member.keyword)", at: member.location)
            }
            if let first = definitions[member.name], firstIndex[member.name] != index {
                let previous = "\(article(first.keyword)) \(first.keyword) at \(first.location)"
                report("'\(member.name)' is already defined as \(previous)", at: member.location)
            }
            switch member {
            case .type(let type):
                check(type.body.asTypeExpression, in: member)
            case .method(let method):
                check(.structure(method.input), in: member)
                check(.structure(method.output), in: member)
            case .error(let error):
                check(.structure(error.parameters), in: member)
            }
        }
    }

    /// What is left to look at, in source order from the top of the stack.
    private enum Work {
        case type(TypeExpression, depth: Int)
        case duplicateField(Field)
        case invalidName(String, SourceLocation)
    }

    /// Walks a member's type tree with an explicit stack rather than recursion, so that even
    /// a tree built in code, deeper than the parser would allow, cannot exhaust the stack.
    private mutating func check(_ root: TypeExpression, in member: Member) {
        var work: [Work] = [.type(root, depth: 0)]
        var reportedDepth = false
        while let item = work.popLast() {
            switch item {
            case .duplicateField(let field):
                report("duplicate field '\(field.name)' in struct", at: field.location)
            case .invalidName(let name, let location):
                report("invalid field name '\(name)'", at: location)
            case .type(let type, let depth):
                if depth > Parser.maxNestingDepth {
                    // Only trees built in code get here: the parser has the same bound.
                    if !reportedDepth {
                        report("type is nested too deeply (the limit is \(Parser.maxNestingDepth) levels)", at: member.location)
                        reportedDepth = true
                    }
                    continue
                }
                switch type {
                case .bool, .int, .float, .string, .object, .any:
                    break
                case .named(let name, let location):
                    checkReference(to: name, at: location)
                case .optional(let wrapped):
                    if case .optional = wrapped {
                        report("'?' cannot be doubled: a type is either optional or not", at: member.location)
                    }
                    work.append(.type(wrapped, depth: depth + 1))
                case .array(let wrapped), .dictionary(let wrapped):
                    work.append(.type(wrapped, depth: depth + 1))
                case .structure(let structure):
                    // Pushed in reverse so each field's duplicate report, then its type, come
                    // off the stack in source order.
                    var seen = Set<String>()
                    let duplicates = structure.fields.map { !seen.insert($0.name).inserted }
                    for (field, isDuplicate) in zip(structure.fields, duplicates).reversed() {
                        work.append(.type(field.type, depth: depth + 1))
                        if isDuplicate { work.append(.duplicateField(field)) }
                        if !NameRules.isFieldName(field.name) { work.append(.invalidName(field.name, field.location)) }
                    }
                case .enumeration(let enumeration):
                    check(enumeration)
                }
            }
        }
    }

    private mutating func checkReference(to name: String, at location: SourceLocation) {
        guard NameRules.isMemberName(name) else {
            report("invalid type name '\(name)'", at: location)
            return
        }
        switch definitions[name] {
        case .type?:
            break
        case let other?:
            let definition = "\(article(other.keyword)) \(other.keyword) at \(other.location)"
            report("'\(name)' is not a type: it is defined as \(definition)", at: location)
        case nil:
            report("unknown type '\(name)' (the interface defines no type of that name)", at: location)
        }
    }

    private mutating func check(_ enumeration: EnumType) {
        if enumeration.cases.isEmpty {
            report("enum must have at least one case", at: enumeration.location)
        }
        var seen = Set<String>()
        for enumCase in enumeration.cases {
            if !NameRules.isFieldName(enumCase.name) {
                report("invalid enum case name '\(enumCase.name)'", at: enumCase.location)
            }
            if !seen.insert(enumCase.name).inserted {
                report("duplicate case '\(enumCase.name)' in enum", at: enumCase.location)
            }
        }
    }

    private func article(_ keyword: String) -> String {
        keyword == "error" ? "an" : "a"
    }

    private mutating func report(_ message: String, at location: SourceLocation) {
        if lines == nil { lines = SourceLines(source) }
        if let lines {
            diagnostics.append(lines.diagnostic(message, at: location, fileName: fileName))
        }
    }
}
