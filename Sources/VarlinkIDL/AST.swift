/// The syntax tree of one varlink interface file.
///
/// Locations are carried for diagnostics but are not part of a node's identity:
/// two trees that differ only in where things were written compare equal, which is
/// what makes `parse(format(x)) == parse(x)` a meaningful check.

/// A position in the source text, 1-based.
public struct SourceLocation: Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

extension SourceLocation: Hashable {
    /// Always equal: see the note at the top of this file.
    public static func == (lhs: SourceLocation, rhs: SourceLocation) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

/// One `interface` with its members, in source order.
public struct InterfaceDefinition: Hashable, Sendable {
    /// The reverse-domain name, e.g. `org.varlink.certification`.
    public var name: String
    /// The full-line `#` comments directly above `interface`, one entry per line,
    /// with the `#` and one following space removed.
    public var doc: [String]
    public var members: [Member]
    public var location: SourceLocation

    public init(name: String, doc: [String] = [], members: [Member] = [], location: SourceLocation = .init(line: 1, column: 1)) {
        self.name = name
        self.doc = doc
        self.members = members
        self.location = location
    }

    public var types: [TypeDefinition] {
        members.compactMap { if case .type(let t) = $0 { t } else { nil } }
    }

    public var methods: [MethodDefinition] {
        members.compactMap { if case .method(let m) = $0 { m } else { nil } }
    }

    public var errors: [ErrorDefinition] {
        members.compactMap { if case .error(let e) = $0 { e } else { nil } }
    }

    /// The named type `name`, if the interface defines one.
    public func type(named name: String) -> TypeDefinition? {
        types.first { $0.name == name }
    }
}

/// `type`, `method` and `error` share one namespace within an interface.
public enum Member: Hashable, Sendable {
    case type(TypeDefinition)
    case method(MethodDefinition)
    case error(ErrorDefinition)

    public var name: String {
        switch self {
        case .type(let t): t.name
        case .method(let m): m.name
        case .error(let e): e.name
        }
    }

    public var doc: [String] {
        switch self {
        case .type(let t): t.doc
        case .method(let m): m.doc
        case .error(let e): e.doc
        }
    }

    public var location: SourceLocation {
        switch self {
        case .type(let t): t.location
        case .method(let m): m.location
        case .error(let e): e.location
        }
    }

    public var keyword: String {
        switch self {
        case .type: "type"
        case .method: "method"
        case .error: "error"
        }
    }
}

/// `type Name (fields)` or `type Name (a, b, c)`.
public struct TypeDefinition: Hashable, Sendable {
    public var name: String
    public var doc: [String]
    public var body: CompositeType
    public var location: SourceLocation

    public init(name: String, doc: [String] = [], body: CompositeType, location: SourceLocation = .init(line: 1, column: 1)) {
        self.name = name
        self.doc = doc
        self.body = body
        self.location = location
    }
}

/// `method Name(input) -> (output)`.
public struct MethodDefinition: Hashable, Sendable {
    public var name: String
    public var doc: [String]
    public var input: StructType
    public var output: StructType
    public var location: SourceLocation

    public init(
        name: String,
        doc: [String] = [],
        input: StructType,
        output: StructType,
        location: SourceLocation = .init(line: 1, column: 1)
    ) {
        self.name = name
        self.doc = doc
        self.input = input
        self.output = output
        self.location = location
    }
}

/// `error Name (fields)`.
public struct ErrorDefinition: Hashable, Sendable {
    public var name: String
    public var doc: [String]
    public var parameters: StructType
    public var location: SourceLocation

    public init(name: String, doc: [String] = [], parameters: StructType, location: SourceLocation = .init(line: 1, column: 1)) {
        self.name = name
        self.doc = doc
        self.parameters = parameters
        self.location = location
    }
}

/// The body of a named type: a struct or an enum.
public enum CompositeType: Hashable, Sendable {
    case structure(StructType)
    case enumeration(EnumType)

    public var asTypeExpression: TypeExpression {
        switch self {
        case .structure(let s): .structure(s)
        case .enumeration(let e): .enumeration(e)
        }
    }
}

/// `(name: type, ...)`; `()` has no fields.
public struct StructType: Hashable, Sendable {
    public var fields: [Field]
    public var location: SourceLocation

    public init(fields: [Field] = [], location: SourceLocation = .init(line: 1, column: 1)) {
        self.fields = fields
        self.location = location
    }
}

public struct Field: Hashable, Sendable {
    public var name: String
    public var doc: [String]
    public var type: TypeExpression
    public var location: SourceLocation

    public init(name: String, doc: [String] = [], type: TypeExpression, location: SourceLocation = .init(line: 1, column: 1)) {
        self.name = name
        self.doc = doc
        self.type = type
        self.location = location
    }
}

/// `(one, two, three)`: at least one case.
public struct EnumType: Hashable, Sendable {
    public var cases: [EnumCase]
    public var location: SourceLocation

    public init(cases: [EnumCase], location: SourceLocation = .init(line: 1, column: 1)) {
        self.cases = cases
        self.location = location
    }
}

public struct EnumCase: Hashable, Sendable {
    public var name: String
    public var doc: [String]
    public var location: SourceLocation

    public init(name: String, doc: [String] = [], location: SourceLocation = .init(line: 1, column: 1)) {
        self.name = name
        self.doc = doc
        self.location = location
    }
}

/// The type of a field.
public indirect enum TypeExpression: Hashable, Sendable {
    case bool
    case int
    case float
    case string
    /// Any JSON object (foreign data).
    case object
    /// Any JSON value but null (`?any` admits null).
    case any
    /// A reference to a `type` of the same interface.
    case named(String, location: SourceLocation)
    /// `?T`: the value, `null`, or an absent field.
    case optional(TypeExpression)
    /// `[]T`
    case array(TypeExpression)
    /// `[string]T`; `[string]()` is a set of strings.
    case dictionary(TypeExpression)
    /// An anonymous struct; `()` is the empty struct.
    case structure(StructType)
    /// An anonymous enum.
    case enumeration(EnumType)

    /// `[string]()`, the varlink idiom for a set of strings.
    public var isStringSet: Bool {
        if case .dictionary(.structure(let s)) = self, s.fields.isEmpty { return true }
        return false
    }
}
