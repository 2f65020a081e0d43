import VarlinkIDL

/// A JSON value of a method's input type to start from: every field in declaration
/// order, with a placeholder of its type. Optional fields are null; arrays and
/// dictionaries are empty (the types they hold are printed beside the skeleton); enums
/// take their first case.
struct Skeleton {
    let interface: InterfaceDefinition
    /// Named types being expanded, to stop at a type that contains itself.
    private var expanding: Set<String> = []

    init(interface: InterfaceDefinition) {
        self.interface = interface
    }

    static func parameters(of method: MethodDefinition, in interface: InterfaceDefinition) -> PrintableJSON {
        var skeleton = Skeleton(interface: interface)
        return skeleton.value(for: .structure(method.input))
    }

    private mutating func value(for type: TypeExpression) -> PrintableJSON {
        switch type {
        case .bool: .scalar("false", .literal)
        case .int: .scalar("0", .number)
        case .float: .scalar("0.0", .number)
        case .string: .string("")
        case .object, .any, .dictionary: .object([])
        case .optional: .scalar("null", .literal)
        case .array: .array([])
        case .enumeration(let enumeration): .string(enumeration.cases.first?.name ?? "")
        case .structure(let structure):
            .object(structure.fields.map { (key: $0.name, value: value(for: $0.type)) })
        case .named(let name, _):
            named(name)
        }
    }

    private mutating func named(_ name: String) -> PrintableJSON {
        guard let definition = interface.type(named: name), !expanding.contains(name) else { return .object([]) }
        expanding.insert(name)
        defer { expanding.remove(name) }
        return value(for: definition.body.asTypeExpression)
    }
}

/// The named types a set of type expressions refers to, directly or through other
/// types, in the interface's declaration order.
func referencedTypes(of roots: [TypeExpression], in interface: InterfaceDefinition) -> [TypeDefinition] {
    var found: Set<String> = []
    var pending = roots
    while let type = pending.popLast() {
        switch type {
        case .named(let name, _):
            if !found.contains(name), let definition = interface.type(named: name) {
                found.insert(name)
                pending.append(definition.body.asTypeExpression)
            }
        case .optional(let inner), .array(let inner), .dictionary(let inner):
            pending.append(inner)
        case .structure(let structure):
            pending += structure.fields.map(\.type)
        case .bool, .int, .float, .string, .object, .any, .enumeration:
            break
        }
    }
    return interface.types.filter { found.contains($0.name) }
}

/// Members of an interface in canonical text (with their doc comments), as
/// `varlink format` would print them, without the `interface` line.
func canonicalText(of members: [Member], interfaceName: String) -> String {
    let text = InterfaceDefinition(name: interfaceName, members: members).canonicalDescription
    // Drop "interface NAME" and the blank line after it.
    return text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).dropFirst(2).joined(separator: "\n")
}
