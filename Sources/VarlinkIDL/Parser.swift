extension InterfaceDefinition {
    /// Parses and validates (resolves references). Throws all diagnostics found (at least
    /// the first syntax error; all resolver errors).
    public static func parse(_ source: String, fileName: String = "<input>") throws(DiagnosticError) -> InterfaceDefinition {
        var parser = Parser(source: source, fileName: fileName)
        let interface: InterfaceDefinition
        do {
            interface = try parser.parseInterface()
        } catch {
            throw DiagnosticError(diagnostics: [error])
        }
        let problems = Resolver.validate(interface, fileName: fileName, source: source)
        guard problems.isEmpty else { throw DiagnosticError(diagnostics: problems) }
        return interface
    }
}

/// A hand-written parser over the PEG in the varlink spec: recursive descent for the file
/// and its members, an explicit stack for (arbitrarily nested) types. It stops at the first
/// syntax error; name resolution and duplicate checks are the `Resolver`'s job.
struct Parser {
    /// How deeply types may nest (`?`, `[]`, `[string]`, anonymous structs and enums and
    /// the leaf type each count one level). Real interfaces use a handful. The parser and the
    /// resolver don't recurse on types, but other code that walks the tree does (formatter,
    /// generators, even the synthesized `==`, `hash(into:)` and deinit); this keeps them far
    /// from the stack limit, even in debug builds on 512 KB threads.
    static let maxNestingDepth = 200

    private var lexer: Lexer
    private var token: Token
    private let fileName: String

    init(source: String, fileName: String) {
        lexer = Lexer(source)
        token = lexer.next()
        self.fileName = fileName
    }

    // MARK: Interface and members

    mutating func parseInterface() throws(Diagnostic) -> InterfaceDefinition {
        guard token.isWord("interface") else { throw fail(.missingInterfaceKeyword) }
        let doc = token.doc
        advance()
        guard token.kind == .word else { throw fail(.missingInterfaceName) }
        guard NameRules.isInterfaceName(token.text) else { throw fail(.invalidInterfaceName) }
        var interface = InterfaceDefinition(name: token.text, doc: doc, location: token.location)
        advance()
        try expectLineBreak(after: "the interface name")

        repeat {
            let member = try parseMember()
            interface.members.append(member)
            try expectLineBreak(after: "the definition of '\(member.name)'")
        } while token.kind != .endOfInput
        return interface
    }

    private mutating func parseMember() throws(Diagnostic) -> Member {
        let keyword = token.text
        guard token.kind == .word, keyword == "type" || keyword == "method" || keyword == "error" else {
            throw fail(.missingMemberKeyword)
        }
        let doc = token.doc
        advance()
        guard token.kind == .word else { throw fail(.missingMemberName(keyword: keyword)) }
        guard NameRules.isMemberName(token.text) else { throw fail(.invalidMemberName) }
        let name = token.text
        let location = token.location
        advance()

        switch keyword {
        case "type":
            guard token.kind == .leftParen else { throw fail(.namedTypeNotComposite(name: name)) }
            let body = try parseComposite()
            return .type(TypeDefinition(name: name, doc: doc, body: body, location: location))
        case "method":
            let input = try parseStruct(role: "the parameters of method '\(name)'")
            guard token.kind == .arrow else { throw fail(.missingArrow(method: name)) }
            advance()
            let output = try parseStruct(role: "the result of method '\(name)'")
            return .method(MethodDefinition(name: name, doc: doc, input: input, output: output, location: location))
        default:
            let parameters = try parseStruct(role: "the parameters of error '\(name)'")
            return .error(ErrorDefinition(name: name, doc: doc, parameters: parameters, location: location))
        }
    }

    /// The PEG requires a line end after the interface name and after every member.
    private func expectLineBreak(after what: String) throws(Diagnostic) {
        guard token.startsLine else { throw fail(.missingLineBreak(after: what)) }
    }

    // MARK: Structs and enums

    /// A method's or error's `( ... )`, which must be a struct.
    private mutating func parseStruct(role: String) throws(Diagnostic) -> StructType {
        guard token.kind == .leftParen else { throw fail(.missingStruct(role: role)) }
        let open = token.location
        switch try parseComposite() {
        case .structure(let structure):
            return structure
        case .enumeration:
            throw fail(.enumInsteadOfStruct(role: role), at: open)
        }
    }

    /// A member's `( ... )`; `token` is the `(`. Parsed as a type starting at level -1, so
    /// that the body is level 0 and its fields' types start at level 1.
    private mutating func parseComposite() throws(Diagnostic) -> CompositeType {
        let open = token.location
        switch try parseType(depth: -1) {
        case .structure(let structure):
            return .structure(structure)
        case .enumeration(let enumeration):
            return .enumeration(enumeration)
        default:
            // Unreachable: a type that starts with '(' is a struct or an enum.
            throw fail(.missingType, at: open)
        }
    }

    /// Continues an enum after its first case; `token` is the `,` or `)` after it.
    private mutating func parseEnumCases(startingWith first: FieldName, open: SourceLocation) throws(Diagnostic) -> EnumType {
        var cases = [EnumCase(name: first.name, doc: first.doc, location: first.location)]
        var last = first
        while token.kind == .comma {
            advance()
            last = try parseFieldName(after: "','")
            cases.append(EnumCase(name: last.name, doc: last.doc, location: last.location))
        }
        guard token.kind == .rightParen else { throw fail(.missingCaseSeparator(enumCase: last.name, firstCase: first.name)) }
        advance()
        return EnumType(cases: cases, location: open)
    }

    private struct FieldName {
        var name: String
        var doc: [String]
        var location: SourceLocation
    }

    private mutating func parseFieldName(after previous: String) throws(Diagnostic) -> FieldName {
        guard token.kind == .word else { throw fail(.missingFieldName(after: previous)) }
        guard NameRules.isFieldName(token.text) else { throw fail(.invalidFieldName) }
        let name = FieldName(name: token.text, doc: token.doc, location: token.location)
        advance()
        return name
    }

    // MARK: Types

    private enum Wrapper {
        case optional, array, dictionary
    }

    /// An anonymous struct whose fields are being read, waiting for the type of `field`.
    private struct OpenStruct {
        var open: SourceLocation
        /// The `?`, `[]` and `[string]` written before its `(`.
        var wrappers: [Wrapper]
        var fields: [Field]
        var field: FieldName
    }

    /// A type, parsed without recursion: structs whose fields are still being read wait on
    /// an explicit stack, so hostile nesting costs heap, never the call stack. `depth` is
    /// the nesting level of the context (0 for a field of a member's body); every prefix,
    /// struct, enum and leaf adds a level, because whatever walks the tree later recurses
    /// through each of them.
    private mutating func parseType(depth startDepth: Int = 0) throws(Diagnostic) -> TypeExpression {
        var pending: [OpenStruct] = []
        var depth = startDepth
        parsing: while true {
            // One type: its prefixes, then its element.
            var wrappers: [Wrapper] = []
            while true {
                depth += 1
                guard depth <= Self.maxNestingDepth else { throw fail(.nestedTooDeeply) }
                guard let wrapper = try parseWrapper() else { break }
                wrappers.append(wrapper)
            }
            var value: TypeExpression
            if token.kind == .leftParen {
                let open = token.location
                advance()
                if token.kind == .rightParen {
                    advance()
                    value = .structure(StructType(fields: [], location: open))
                } else {
                    let first = try parseFieldName(after: "'('")
                    switch token.kind {
                    case .colon:
                        advance()
                        pending.append(OpenStruct(open: open, wrappers: wrappers, fields: [], field: first))
                        continue parsing  // on to the first field's type
                    case .comma, .rightParen:
                        value = .enumeration(try parseEnumCases(startingWith: first, open: open))
                    default:
                        throw fail(.missingColonOrComma(field: first.name))
                    }
                }
            } else {
                value = try parseElementType()
            }
            value = Self.wrap(value, in: wrappers)
            depth -= wrappers.count + 1

            // Hand the finished type to the struct waiting for it; close every struct that
            // is now complete, or go on to the next field.
            while var parent = pending.popLast() {
                parent.fields.append(Field(name: parent.field.name, doc: parent.field.doc, type: value, location: parent.field.location))
                switch token.kind {
                case .comma:
                    advance()
                    parent.field = try parseFieldName(after: "','")
                    guard token.kind == .colon else { throw fail(.missingColon(field: parent.field.name)) }
                    advance()
                    pending.append(parent)
                    continue parsing
                case .rightParen:
                    advance()
                    value = Self.wrap(.structure(StructType(fields: parent.fields, location: parent.open)), in: parent.wrappers)
                    depth -= parent.wrappers.count + 1
                default:
                    throw fail(.missingFieldSeparator(field: parent.field.name))
                }
            }
            return value
        }
    }

    /// Consumes a `?`, `[]` or `[string]` prefix, if the token is one.
    private mutating func parseWrapper() throws(Diagnostic) -> Wrapper? {
        switch token.kind {
        case .question:
            advance()
            if token.kind == .question { throw fail(.doubledOptional) }
            return .optional
        case .arrayPrefix:
            advance()
            return .array
        case .dictionaryPrefix:
            advance()
            return .dictionary
        default:
            return nil
        }
    }

    private static func wrap(_ type: TypeExpression, in wrappers: [Wrapper]) -> TypeExpression {
        var type = type
        for wrapper in wrappers.reversed() {
            switch wrapper {
            case .optional: type = .optional(type)
            case .array: type = .array(type)
            case .dictionary: type = .dictionary(type)
            }
        }
        return type
    }

    /// A primitive or a reference to a named type.
    private mutating func parseElementType() throws(Diagnostic) -> TypeExpression {
        guard token.kind == .word else {
            throw fail(token.kind == .unexpected && token.text == "[" ? .bracketWithoutStringKey : .missingType)
        }
        let type: TypeExpression
        switch token.text {
        case "bool": type = .bool
        case "int": type = .int
        case "float": type = .float
        case "string": type = .string
        case "object": type = .object
        case "any": type = .any
        default:
            guard NameRules.isMemberName(token.text) else { throw fail(.notAType) }
            type = .named(token.text, location: token.location)
        }
        advance()
        return type
    }

    // MARK: Helpers

    private mutating func advance() {
        token = lexer.next()
    }

    /// The diagnostic for `error` at `location`, or at the current token.
    @inline(never)
    private func fail(_ error: SyntaxError, at location: SourceLocation? = nil) -> Diagnostic {
        SourceLines(bytes: lexer.bytes).diagnostic(error.message(found: token), at: location ?? token.location, fileName: fileName)
    }
}
