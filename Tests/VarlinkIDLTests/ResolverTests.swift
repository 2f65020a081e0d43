import Testing
import VarlinkIDL

@Suite("Resolver")
struct ResolverTests {
    private func messages(_ members: String) -> [String] {
        diagnostics(interfaceSource(members)).map { "\($0.location) \($0.message)" }
    }

    @Test func forwardAndBackwardReferencesResolve() throws {
        let interface = try InterfaceDefinition.parse(
            interfaceSource("method M(a: Later) -> (b: []Earlier)\ntype Earlier (x: ?Later)\ntype Later (one, two)")
        )
        #expect(interface.members.count == 3)
    }

    @Test func selfReferenceResolves() throws {
        // Recursive types are legal IDL (a tree node holding ?[]Node); only generators care.
        _ = try InterfaceDefinition.parse(interfaceSource("type Node (children: ?[]Node)"))
    }

    @Test func unknownTypesEverywhereAreAllReported() {
        #expect(
            messages(
                """
                type T (a: A, b: ?[]B, c: [string](d: C))
                method M(e: D) -> (f: E)
                error Failed (g: F)
                """
            ) == [
                "2:12 unknown type 'A' (the interface defines no type of that name)",
                "2:21 unknown type 'B' (the interface defines no type of that name)",
                "2:39 unknown type 'C' (the interface defines no type of that name)",
                "3:13 unknown type 'D' (the interface defines no type of that name)",
                "3:23 unknown type 'E' (the interface defines no type of that name)",
                "4:18 unknown type 'F' (the interface defines no type of that name)",
            ]
        )
    }

    @Test func methodsAndErrorsAreNotTypes() {
        #expect(
            messages("method Ping() -> ()\nerror Oops ()\ntype T (a: Ping, b: Oops)") == [
                "4:12 'Ping' is not a type: it is defined as a method at 2:8",
                "4:21 'Oops' is not a type: it is defined as an error at 3:7",
            ]
        )
    }

    @Test func oneNamespaceForAllMembers() {
        #expect(
            messages("type A (x: int)\nmethod A() -> ()\nerror A ()\nerror B ()\ntype B (one)\nmethod C() -> ()\nmethod C() -> ()") == [
                "3:8 'A' is already defined as a type at 2:6",
                "4:7 'A' is already defined as a type at 2:6",
                "6:6 'B' is already defined as an error at 5:7",
                "8:8 'C' is already defined as a method at 7:8",
            ]
        )
    }

    @Test func duplicateFieldsInEveryKindOfStruct() {
        #expect(
            messages(
                """
                type T (a: int, a: int)
                method M(b: int, b: int) -> (c: int, c: int)
                error E (d: int, d: int)
                type U (x: []?(e: int, e: int))
                type V (y: (f: (g: int, g: int)))
                """
            ) == [
                "2:17 duplicate field 'a' in struct",
                "3:18 duplicate field 'b' in struct",
                "3:38 duplicate field 'c' in struct",
                "4:18 duplicate field 'd' in struct",
                "5:24 duplicate field 'e' in struct",
                "6:25 duplicate field 'g' in struct",
            ]
        )
    }

    @Test func duplicateEnumCases() {
        #expect(
            messages("type E (one, two, one, two)\ntype T (x: (a, a))") == [
                "2:19 duplicate case 'one' in enum",
                "2:24 duplicate case 'two' in enum",
                "3:16 duplicate case 'a' in enum",
            ]
        )
    }

    @Test func sameFieldNameInDifferentStructsIsFine() throws {
        _ = try InterfaceDefinition.parse(interfaceSource("type T (a: int, b: (a: int, b: (a, b)))\nmethod M(a: int) -> (a: int)"))
    }

    @Test func validateOnTreesBuiltInCode() {
        let interface = InterfaceDefinition(
            name: "org.example.built",
            members: [
                .type(TypeDefinition(name: "Empty", body: .enumeration(EnumType(cases: [], location: .init(line: 2, column: 12))), location: .init(line: 2, column: 6))),
                .type(TypeDefinition(name: "S", body: .structure(StructType(fields: [Field(name: "e", type: .enumeration(EnumType(cases: [])))])))),
                .method(MethodDefinition(name: "M", input: StructType(), output: StructType(fields: [Field(name: "s", type: .named("S", location: .init(line: 1, column: 1)))]))),
            ]
        )
        let found = Resolver.validate(interface, fileName: "built", source: "interface org.example.built\ntype Empty ()")
        #expect(found.map(\.message) == ["enum must have at least one case", "enum must have at least one case"])
        #expect(found.first?.sourceLine == "type Empty ()")
        // Locations outside the source quote an empty line rather than failing.
        #expect(Resolver.validate(interface, fileName: "built", source: "").map(\.sourceLine) == ["", ""])
    }

    @Test func validateOnExcessivelyDeepTreesBuiltInCode() {
        var type = TypeExpression.int
        for _ in 0..<300 { type = .array(type) }
        let interface = InterfaceDefinition(
            name: "org.example.deep",
            members: [.type(TypeDefinition(name: "T", body: .structure(StructType(fields: [Field(name: "a", type: type)]))))]
        )
        #expect(Resolver.validate(interface, fileName: "deep", source: "").map(\.message) == ["type is nested too deeply (the limit is 200 levels)"])
    }

    @Test func diagnosticsComeInSourceOrder() {
        #expect(
            messages("type T (a: X, a: (b: Y, b: int), c: Z)\nmethod M(d: W) -> ()\nmethod M() -> ()") == [
                "2:12 unknown type 'X' (the interface defines no type of that name)",
                "2:15 duplicate field 'a' in struct",
                "2:22 unknown type 'Y' (the interface defines no type of that name)",
                "2:25 duplicate field 'b' in struct",
                "2:37 unknown type 'Z' (the interface defines no type of that name)",
                "3:13 unknown type 'W' (the interface defines no type of that name)",
                "4:8 'M' is already defined as a method at 3:8",
            ]
        )
    }

    @Test func invalidNamesInTreesBuiltInCode() {
        // The parser never produces these; a tree built in code can, and its canonical text
        // would not parse back.
        let here = SourceLocation(line: 1, column: 1)
        let interface = InterfaceDefinition(
            name: "not-an-interface-name",
            members: [
                .type(TypeDefinition(name: "lower", body: .enumeration(EnumType(cases: [EnumCase(name: "bad case")])))),
                .error(ErrorDefinition(name: "E", parameters: StructType(fields: [
                    Field(name: "_x", type: .int),
                    Field(name: "y", type: .named("not_a_type", location: here)),
                    Field(name: "z", type: .optional(.optional(.int))),
                ]))),
            ]
        )
        #expect(
            Resolver.validate(interface, fileName: "built", source: "").map(\.message) == [
                "invalid interface name 'not-an-interface-name'",
                "invalid name 'lower' for a type",
                "invalid enum case name 'bad case'",
                "invalid field name '_x'",
                "invalid type name 'not_a_type'",
                "'?' cannot be doubled: a type is either optional or not",
            ]
        )
    }
}
