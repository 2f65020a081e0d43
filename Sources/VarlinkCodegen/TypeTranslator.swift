import VarlinkIDL

/// A Swift declaration the generator will print: the shape decided, the text not yet.
indirect enum Declaration {
    case structure(StructDeclaration)
    case enumeration(EnumDeclaration)
}

struct StructDeclaration {
    enum Role {
        case value
        /// An IDL `error`: also a Swift `Error` with its wire name.
        case error(qualifiedName: String)
    }

    var name: String
    /// The fully qualified Swift path, used for every reference.
    var path: String
    var doc: [String]
    var role: Role = .value
    var fields: [FieldDeclaration]
    var nested: [Declaration]
    /// How varlink writes the type, for decoding messages.
    var varlinkTypeName: String
}

struct FieldDeclaration {
    var wireName: String
    /// Escaped where needed: the name as a property or a variable.
    var swiftName: String
    /// The name as an argument label at a call site, where only a few keywords need escaping.
    var label: String
    /// The property's type without the top-level `?`.
    var swiftType: String
    var isOptional: Bool
    /// Whether `encode(to:)` of `swiftType` throws, which decides whether a call needs `try`.
    var encodeThrows: Bool
    var doc: [String]

    var propertyType: String { isOptional ? swiftType + "?" : swiftType }
}

struct EnumDeclaration {
    struct Case {
        var wireName: String
        var swiftName: String
        var doc: [String]
    }

    var name: String
    var path: String
    var doc: [String]
    var cases: [Case]
    /// The case that keeps a value this interface does not declare.
    var fallbackCase: String
    var varlinkTypeName: String
}

/// Decides the Swift type of every varlink type of one interface, and the declarations
/// anonymous structs and enums need. Anonymous types are nested in the declaration
/// that uses them and named after their field (`Interface.foo` -> `Interface.Foo`), so
/// the names are deterministic and never collide across scopes.
struct TypeTranslator {
    let interface: InterfaceDefinition
    let namespace: String
    /// Swift names of the interface's named types and errors.
    let memberNames: [String: String]

    init(interface: InterfaceDefinition, namespace: String, reservedNames: Set<String>) {
        self.interface = interface
        self.namespace = namespace
        var scope = NameScope(reserved: reservedNames.union(SwiftNaming.reservedTypeNames))
        var names: [String: String] = [:]
        for member in interface.members {
            if case .method = member { continue }
            names[member.name] = scope.claim(member.name)
        }
        memberNames = names
    }

    /// The declaration of a named `type`.
    func declaration(for type: TypeDefinition) -> Declaration {
        let name = memberNames[type.name] ?? type.name
        switch type.body {
        case .structure(let body):
            return .structure(
                structDeclaration(name: name, path: "\(namespace).\(name)", doc: type.doc, body: body, varlinkName: type.name)
            )
        case .enumeration(let body):
            return .enumeration(
                enumDeclaration(name: name, path: "\(namespace).\(name)", doc: type.doc, body: body, varlinkName: type.name)
            )
        }
    }

    /// The declaration of an `error`'s parameters.
    func declaration(for error: ErrorDefinition) -> StructDeclaration {
        let name = memberNames[error.name] ?? error.name
        var declaration = structDeclaration(
            name: name,
            path: "\(namespace).\(name)",
            doc: error.doc,
            body: error.parameters,
            varlinkName: error.name
        )
        declaration.role = .error(qualifiedName: "\(interface.name).\(error.name)")
        return declaration
    }

    func structDeclaration(name: String, path: String, doc: [String], body: StructType, varlinkName: String)
        -> StructDeclaration
    {
        var nested: [Declaration] = []
        var nestedNames = NameScope(reserved: SwiftNaming.reservedTypeNames.union([name]))
        var propertyNames = NameScope(reserved: [])
        // If converting to camelCase makes two fields collide, the struct keeps the wire
        // names as they are rather than inventing suffixes.
        let camelNames = body.fields.map { SwiftNaming.lowerCamelCase($0.name) }
        let keepWireNames = Set(camelNames).count != camelNames.count
        let fields = body.fields.map { field in
            let property = propertyNames.claim(keepWireNames ? field.name : SwiftNaming.lowerCamelCase(field.name))
            var type = field.type
            var isOptional = false
            if case .optional(let wrapped) = type {
                type = wrapped
                isOptional = true
            }
            let (swiftType, encodeThrows) = swiftType(
                for: type,
                fieldName: field.name,
                parentPath: path,
                nested: &nested,
                nestedNames: &nestedNames
            )
            return FieldDeclaration(
                wireName: field.name,
                swiftName: SwiftNaming.escaped(property),
                label: SwiftNaming.escapedLabel(property),
                swiftType: swiftType,
                isOptional: isOptional,
                encodeThrows: encodeThrows,
                doc: field.doc
            )
        }
        return StructDeclaration(
            name: name,
            path: path,
            doc: doc,
            fields: fields,
            nested: nested,
            varlinkTypeName: varlinkName
        )
    }

    func enumDeclaration(name: String, path: String, doc: [String], body: EnumType, varlinkName: String)
        -> EnumDeclaration
    {
        var scope = NameScope(reserved: ["init", "wireValue", "varlinkTypeName", "knownCases"])
        let cases = body.cases.map { enumCase in
            EnumDeclaration.Case(
                wireName: enumCase.name,
                swiftName: SwiftNaming.escaped(scope.claim(SwiftNaming.lowerCamelCase(enumCase.name))),
                doc: enumCase.doc
            )
        }
        return EnumDeclaration(
            name: name,
            path: path,
            doc: doc,
            cases: cases,
            fallbackCase: scope.claim("unrecognized"),
            varlinkTypeName: varlinkName
        )
    }

    /// The Swift type of `type` (without a top-level `?`, which the field handles), and
    /// whether encoding it can throw. Anonymous types become nested declarations.
    private func swiftType(
        for type: TypeExpression,
        fieldName: String,
        parentPath: String,
        nested: inout [Declaration],
        nestedNames: inout NameScope
    ) -> (String, Bool) {
        switch type {
        case .bool: return ("Swift.Bool", false)
        case .int: return ("Swift.Int", false)
        case .float: return ("Swift.Double", true)
        case .string: return ("Swift.String", false)
        case .object: return ("[Swift.String: Varlink.JSONValue]", true)
        case .any: return ("Varlink.JSONValue", true)
        case .named(let name, _):
            let isEnum: Bool
            if case .enumeration? = interface.type(named: name)?.body { isEnum = true } else { isEnum = false }
            return ("\(namespace).\(memberNames[name] ?? name)", !isEnum)
        case .optional(let wrapped):
            let (inner, _) = swiftType(
                for: wrapped,
                fieldName: fieldName,
                parentPath: parentPath,
                nested: &nested,
                nestedNames: &nestedNames
            )
            return (inner + "?", true)
        case .array(let element):
            let (inner, _) = swiftType(
                for: element,
                fieldName: fieldName,
                parentPath: parentPath,
                nested: &nested,
                nestedNames: &nestedNames
            )
            return ("[\(inner)]", true)
        case .dictionary(let value):
            if type.isStringSet { return ("Swift.Set<Swift.String>", false) }
            let (inner, _) = swiftType(
                for: value,
                fieldName: fieldName,
                parentPath: parentPath,
                nested: &nested,
                nestedNames: &nestedNames
            )
            return ("[Swift.String: \(inner)]", true)
        case .structure(let body):
            if body.fields.isEmpty { return ("Varlink.VarlinkEmpty", false) }
            let name = nestedNames.claim(SwiftNaming.upperCamelCase(fieldName))
            let path = "\(parentPath).\(name)"
            nested.append(
                .structure(
                    structDeclaration(name: name, path: path, doc: [], body: body, varlinkName: type.canonicalText)
                )
            )
            return (path, true)
        case .enumeration(let body):
            let name = nestedNames.claim(SwiftNaming.upperCamelCase(fieldName))
            let path = "\(parentPath).\(name)"
            nested.append(
                .enumeration(enumDeclaration(name: name, path: path, doc: [], body: body, varlinkName: type.canonicalText))
            )
            return (path, false)
        }
    }
}
