import Testing
import VarlinkIDL

@Suite("Grammar")
struct GrammarTests {
    // MARK: interface

    @Test func minimalInterface() throws {
        let interface = try InterfaceDefinition.parse("interface org.example.ping\nmethod Ping() -> ()\n")
        #expect(interface.name == "org.example.ping")
        #expect(interface.doc == [])
        #expect(interface.members == [.method(MethodDefinition(name: "Ping", input: StructType(), output: StructType()))])
        #expect(interface.location.line == 1 && interface.location.column == 11)
    }

    @Test(arguments: [
        "org.example", "a.b", "org.example.some-service", "a-b.c", "a--b.c--d", "x.0", "x.0a",
        "org.example.a1", "A.B", "xn--bcher-kva.example", "org.varlink.certification", "io.podman",
    ])
    func validInterfaceNames(name: String) throws {
        let interface = try InterfaceDefinition.parse("interface \(name)\nerror E ()")
        #expect(interface.name == name)
    }

    @Test(arguments: [
        "org", "1org.example", "org.", "org..example", "org.-x", "org.x-", "a-.b", "org.ex_ample",
        "org_x.y", "-org.x", "org.x.", "9.x",
    ])
    func invalidInterfaceNames(name: String) {
        let found = diagnostics("interface \(name)\nerror E ()")
        #expect(found.count == 1)
        #expect(found.first?.location.line == 1)
    }

    @Test func interfaceMustComeFirst() {
        let found = diagnostics("type T (a: int)\ninterface org.example.x\n")
        #expect(found.map(\.message) == ["expected 'interface' at the start of the file, found 'type'"])
    }

    @Test func interfaceNeedsAMember() {
        #expect(diagnostics("interface org.example.x\n").map(\.message) == ["expected 'type', 'method' or 'error', found end of input"])
        #expect(diagnostics("interface org.example.x").count == 1)
    }

    @Test func interfaceNameMayFollowOnTheNextLine() throws {
        // The PEG allows any `_` (whitespace, comments, line breaks) after the keyword.
        let interface = try InterfaceDefinition.parse("interface # the name:\n  org.example.x\nerror E ()")
        #expect(interface.name == "org.example.x")
    }

    // MARK: members

    @Test func allMemberKinds() throws {
        let interface = try InterfaceDefinition.parse(
            interfaceSource(
                """
                type S (a: int)
                type E (one, two)
                method M(s: S) -> (e: E)
                error Failed (reason: string)
                error Bare ()
                """
            )
        )
        #expect(interface.members.map(\.keyword) == ["type", "type", "method", "error", "error"])
        #expect(interface.types.map(\.name) == ["S", "E"])
        #expect(interface.type(named: "E")?.body == .enumeration(EnumType(cases: [EnumCase(name: "one"), EnumCase(name: "two")])))
        #expect(interface.methods.first?.input.fields.first?.type == .named("S", location: .init(line: 0, column: 0)))
        #expect(interface.errors.map(\.name) == ["Failed", "Bare"])
        #expect(interface.errors.last?.parameters.fields == [])
    }

    @Test func memberLocationsPointAtTheName() throws {
        let interface = try InterfaceDefinition.parse(interfaceSource("type T (a: int)\nmethod  M() -> ()\nerror E ()"))
        let locations = interface.members.map { "\($0.location)" }
        #expect(locations == ["2:6", "3:9", "4:7"])
    }

    @Test(arguments: ["foo", "Foo_Bar", "_Foo", "F-o", "f00"])
    func invalidMemberNames(name: String) {
        let found = diagnostics(interfaceSource("type \(name) (a: int)"))
        #expect(found.count == 1)
        #expect(found.first?.location.line == 2)
    }

    @Test(arguments: ["F", "F00", "FooBar", "HTTPServer2"])
    func validMemberNames(name: String) throws {
        let interface = try InterfaceDefinition.parse(interfaceSource("error \(name) ()"))
        #expect(interface.members.first?.name == name)
    }

    @Test func unknownMemberKeyword() {
        #expect(diagnostics(interfaceSource("struct S (a: int)")).map(\.message) == ["expected 'type', 'method' or 'error', found 'struct'"])
    }

    @Test func namedTypeMustBeStructOrEnum() {
        #expect(
            diagnostics(interfaceSource("type T int")).map(\.message)
                == ["expected '(' after type name 'T', found 'int' (a named type must be a struct or an enum)"]
        )
        #expect(diagnostics(interfaceSource("type T []string")).count == 1)
        #expect(diagnostics(interfaceSource("type T ?(a: int)")).count == 1)
    }

    @Test func methodNeedsStructsAndArrow() {
        #expect(
            diagnostics(interfaceSource("method M() (a: int)")).map(\.message)
                == ["expected '->' after the parameters of method 'M', found '('"]
        )
        #expect(
            diagnostics(interfaceSource("method M(a, b) -> ()")).map(\.message)
                == ["the parameters of method 'M' must be a struct, found an enum (give every field a type: 'name: type')"]
        )
        #expect(
            diagnostics(interfaceSource("method M() -> (ok)")).map(\.message)
                == ["the result of method 'M' must be a struct, found an enum (give every field a type: 'name: type')"]
        )
        #expect(diagnostics(interfaceSource("method M -> ()")).map(\.message) == ["expected '(' to start the parameters of method 'M', found '->'"])
        #expect(diagnostics(interfaceSource("method M() -> string")).count == 1)
        #expect(diagnostics(interfaceSource("method M() - > ()")).count == 1)
    }

    @Test func errorNeedsStruct() {
        #expect(diagnostics(interfaceSource("error E")).map(\.message) == ["expected '(' to start the parameters of error 'E', found end of input"])
        #expect(diagnostics(interfaceSource("error E (a, b)")).count == 1)
        #expect(diagnostics(interfaceSource("error E object")).count == 1)
    }

    // MARK: line structure

    @Test func membersMustEndAtALineEnd() {
        #expect(
            diagnostics(interfaceSource("type A (a: int) type B (b: int)")).map(\.message)
                == ["expected a line break after the definition of 'A', found 'type'"]
        )
        #expect(
            diagnostics("interface org.example.x type A (a: int)").map(\.message)
                == ["expected a line break after the interface name, found 'type'"]
        )
        #expect(diagnostics(interfaceSource("method M() -> () error E ()")).count == 1)
    }

    @Test func commentsMayEndMemberLines() throws {
        let interface = try InterfaceDefinition.parse("interface org.example.x # the interface\ntype A (a: int) # first\ntype B (b: int)# second")
        #expect(interface.members.count == 2)
    }

    @Test func membersMaySpanLines() throws {
        let interface = try InterfaceDefinition.parse(
            interfaceSource("method\n  Long\n(\n  a\n  :\n  int\n  ,\n  b: string\n)\n  ->\n  (\n)\n")
        )
        #expect(interface.methods.first?.input.fields.map(\.name) == ["a", "b"])
    }

    // MARK: structs and enums

    @Test func structEnumDisambiguation() throws {
        #expect(try parseType("(a, b)") == .enumeration(EnumType(cases: [EnumCase(name: "a"), EnumCase(name: "b")])))
        #expect(try parseType("(a)") == .enumeration(EnumType(cases: [EnumCase(name: "a")])))
        #expect(try parseType("(a: int)") == .structure(StructType(fields: [Field(name: "a", type: .int)])))
        #expect(try parseType("()") == .structure(StructType()))
        #expect(try parseType("( )") == .structure(StructType()))
    }

    @Test func structAndEnumErrors() {
        #expect(
            diagnostics(interfaceSource("type T (foo int)")).map(\.message)
                == ["expected ':' or ',' after field name 'foo', found 'int'"]
        )
        #expect(
            diagnostics(interfaceSource("type T (a: int, b)")).map(\.message)
                == ["expected ':' after field name 'b', found ')' (this is a struct, so every field needs a type)"]
        )
        #expect(
            diagnostics(interfaceSource("type T (a, b: int)")).map(\.message)
                == ["expected ',' or ')' after enum case 'b', found ':' (this is an enum because 'a' has no type)"]
        )
        #expect(diagnostics(interfaceSource("type T (a: int,)")).map(\.message) == ["expected a field name after ',', found ')'"])
        #expect(diagnostics(interfaceSource("type T (a,)")).map(\.message) == ["expected a field name after ',', found ')'"])
        #expect(diagnostics(interfaceSource("type T (,)")).map(\.message) == ["expected a field name after '(', found ','"])
        #expect(diagnostics(interfaceSource("type T (a: int b: int)")).map(\.message) == ["expected ',' or ')' after field 'a', found 'b'"])
        #expect(diagnostics(interfaceSource("type T (a b)")).count == 1)
        #expect(diagnostics(interfaceSource("type T ((a: int))")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a: int")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a: int))")).count == 1)
    }

    @Test(arguments: [
        "a", "A", "aB", "a_b", "a1_b2", "x9", "camelCase", "snake_case_name", "containerS", "parentId",
        // keywords of the IDL and of target languages are ordinary field names
        "type", "method", "error", "interface", "in", "enum", "struct", "object", "bool", "int",
        "float", "string", "any", "default", "delete", "len", "self", "Self",
    ])
    func validFieldNames(name: String) throws {
        let interface = try InterfaceDefinition.parse(interfaceSource("type T (\(name): \(name == "int" ? "string" : "int"))\ntype E (\(name))"))
        guard case .type(let type) = interface.members.first, case .structure(let body) = type.body else {
            Issue.record("not a struct")
            return
        }
        #expect(body.fields.map(\.name) == [name])
        #expect(interface.members.count == 2)
    }

    @Test(arguments: ["_a", "a_", "a__b", "1a", "9", "a-b", "a.b"])
    func invalidFieldNames(name: String) {
        let found = diagnostics(interfaceSource("type T (\(name): int)"))
        #expect(found.count == 1)
        #expect(found.first?.location.line == 2)
        #expect(found.first?.location.column == 9)
    }

    @Test func fieldLocations() throws {
        let interface = try InterfaceDefinition.parse(interfaceSource("type T (a: int, bb: (c, d))"))
        guard case .type(let type) = interface.members.first, case .structure(let body) = type.body,
            case .enumeration(let inner) = body.fields[1].type
        else {
            Issue.record("unexpected shape")
            return
        }
        #expect("\(body.location)" == "2:8")
        #expect(body.fields.map { "\($0.location)" } == ["2:9", "2:17"])
        #expect("\(inner.location)" == "2:21")
        #expect(inner.cases.map { "\($0.location)" } == ["2:22", "2:25"])
    }

    // MARK: types

    @Test(arguments: [
        ("bool", TypeExpression.bool),
        ("int", .int),
        ("float", .float),
        ("string", .string),
        ("object", .object),
        ("any", .any),
        ("N", .named("N", location: .init(line: 0, column: 0))),
        ("?int", .optional(.int)),
        ("[]int", .array(.int)),
        ("[string]int", .dictionary(.int)),
        ("[string]()", .dictionary(.structure(StructType()))),
        ("?any", .optional(.any)),
        ("[][]string", .array(.array(.string))),
        ("[string][]N", .dictionary(.array(.named("N", location: .init(line: 0, column: 0))))),
        ("?[]?[string](foo, bar, baz)",
         .optional(.array(.optional(.dictionary(.enumeration(EnumType(cases: [EnumCase(name: "foo"), EnumCase(name: "bar"), EnumCase(name: "baz")]))))))),
        ("?(first: int, second: string)",
         .optional(.structure(StructType(fields: [Field(name: "first", type: .int), Field(name: "second", type: .string)])))),
        ("[]?N", .array(.optional(.named("N", location: .init(line: 0, column: 0))))),
    ])
    func types(text: String, expected: TypeExpression) throws {
        let type = try parseType(text)
        #expect(type == expected)
        #expect(type.canonicalText == text)
    }

    @Test func stringSet() throws {
        #expect(try parseType("[string]()").isStringSet)
        #expect(try !parseType("[string](a: int)").isStringSet)
        #expect(try !parseType("[]()").isStringSet)
    }

    @Test func typeSpacingIsFree() throws {
        #expect(try parseType("? [] ? [string] int") == .optional(.array(.optional(.dictionary(.int)))))
    }

    @Test(arguments: ["??int", "?[]??int", "[]??string", "? ?int"])
    func doubledOptionalIsAnError(text: String) {
        #expect(diagnostics(interfaceSource("type T (a: \(text))")).map(\.message) == ["'?' cannot be doubled: a type is either optional or not"])
    }

    @Test func typeErrors() {
        #expect(
            diagnostics(interfaceSource("type T (a: integer)")).map(\.message)
                == ["expected a type, found 'integer' (types are bool, int, float, string, object, any, a type name, or '(', '?', '[]', '[string]')"]
        )
        #expect(diagnostics(interfaceSource("type T (a: [int]string)")).map(\.message) == ["expected '[]' or '[string]', found '['"])
        #expect(diagnostics(interfaceSource("type T (a: [ ]string)")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a: ?)")).map(\.message) == ["expected a type, found ')'"])
        #expect(diagnostics(interfaceSource("type T (a: [])")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a: [string])")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a: )")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a: int?)")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a: string[])")).count == 1)
    }

    // MARK: io.podman quirks and whitespace

    @Test func podmanQuirks() throws {
        let source = """
            # Doc with **markdown**
            # #### Example
            # ~~~
            # $ varlink call -m unix:/run/podman/io.podman/io.podman.GetVersion
            # ~~~
            interface io.podman

            type LogLine (
                device: string,
                parseLogType : string,
                created: string, # as RFC3339
                time: string
            )

            type Sockets(
              container_id: string,
              io_socket: string
            )

            # GetVersion returns version and build information of the podman service
            # method WaitPod() -> (pod: string)
            method  UnmountContainer(name: string, force: bool) -> ()

            method Top (nameOrID: string, descriptors: []string) -> (top: []string)
            """
        let interface = try InterfaceDefinition.parse(source)
        #expect(interface.doc == ["Doc with **markdown**", "#### Example", "~~~", "$ varlink call -m unix:/run/podman/io.podman/io.podman.GetVersion", "~~~"])
        #expect(interface.members.map(\.name) == ["LogLine", "Sockets", "UnmountContainer", "Top"])
        guard case .type(let logLine) = interface.members[0], case .structure(let fields) = logLine.body else {
            Issue.record("LogLine is not a struct")
            return
        }
        #expect(fields.fields.map(\.name) == ["device", "parseLogType", "created", "time"])
        #expect(fields.fields.allSatisfy { $0.doc.isEmpty })
        #expect(interface.members[2].doc == ["GetVersion returns version and build information of the podman service", "method WaitPod() -> (pod: string)"])
    }

    @Test(arguments: ["\r\n", "\r", "\u{2028}", "\u{2029}"])
    func lineEndings(lineEnd: String) throws {
        let lines = ["# doc", "interface org.example.x", "", "# member doc", "type T (", "  a: int, # note", "  # field doc", "  b: string", ")"]
        let interface = try InterfaceDefinition.parse(lines.joined(separator: lineEnd) + lineEnd)
        let reference = try InterfaceDefinition.parse(lines.joined(separator: "\n"))
        #expect(interface == reference)
        #expect(interface.doc == ["doc"])
        #expect(interface.members.first?.doc == ["member doc"])
        #expect("\(interface.members[0].location)" == "5:6")
    }

    @Test func unicodeWhitespace() throws {
        // Tabs, NBSP, BOM, ideographic space: all `whitespace` in the PEG.
        let source = "\u{FEFF}interface\torg.example.x\n\u{3000}type\u{00A0}T\u{2003}(a:\u{202F}int)\n"
        let interface = try InterfaceDefinition.parse(source)
        #expect(interface.members.map(\.name) == ["T"])
        #expect("\(interface.members[0].location)" == "2:7")
    }

    @Test func otherControlCharactersAreErrors() {
        #expect(diagnostics(interfaceSource("type T (a: int)\u{0C}")).count == 1)
        #expect(diagnostics(interfaceSource("type T (a:\u{0}int)")).map(\.message) == ["expected a type, found character U+0000"])
    }

    @Test func emptyInput() {
        #expect(diagnostics("").map(\.message) == ["expected 'interface' at the start of the file, found end of input"])
        #expect(diagnostics("   \n# only a comment\n\n").count == 1)
    }
}
