import Testing
import VarlinkIDL

/// Exact rendering of diagnostics: FILE:LINE:COL, message, quoted line and caret.
@Suite("Diagnostics")
struct DiagnosticTests {
    private func render(_ source: String) -> String {
        diagnostics(source, fileName: "x.varlink").map(\.description).joined(separator: "\n")
    }

    @Test func fieldWithoutColon() {
        #expect(
            render(interfaceSource("type T (foo int)")) == """
                x.varlink:2:13: error: expected ':' or ',' after field name 'foo', found 'int'
                type T (foo int)
                            ^
                """
        )
    }

    @Test func unknownType() {
        #expect(
            render(interfaceSource("\ntype T (\n  a: Bar\n)")) == """
                x.varlink:4:6: error: unknown type 'Bar' (the interface defines no type of that name)
                  a: Bar
                     ^
                """
        )
    }

    @Test func duplicateMemberAcrossKinds() {
        #expect(
            render(interfaceSource("method Foo() -> ()\ntype Foo (a: int)")) == """
                x.varlink:3:6: error: 'Foo' is already defined as a method at 2:8
                type Foo (a: int)
                     ^
                """
        )
    }

    @Test func duplicateField() {
        #expect(
            render(interfaceSource("type T (a: int, a: string)")) == """
                x.varlink:2:17: error: duplicate field 'a' in struct
                type T (a: int, a: string)
                                ^
                """
        )
    }

    @Test func endOfInputPointsAfterTheLastToken() {
        #expect(
            render(interfaceSource("type T (a: int   # comment\n\n")) == """
                x.varlink:2:15: error: expected ',' or ')' after field 'a', found end of input
                type T (a: int   # comment
                              ^
                """
        )
    }

    @Test func emptyInput() {
        #expect(
            render("") == """
                x.varlink:1:1: error: expected 'interface' at the start of the file, found end of input

                ^
                """
        )
    }

    @Test func columnsCountCharactersNotBytes() {
        // "é" is two bytes, "…" three, the flag two scalars: each is one column.
        #expect(
            render("# é…🇩🇪\ninterface org.example.x\ntype T\u{00A0}(é: int)") == """
                x.varlink:3:9: error: expected a field name after '(', found character U+00E9
                type T\u{00A0}(é: int)
                        ^
                """
        )
        #expect(
            render("interface org.example.x\n\u{3000}🇩🇪 error E ()") == """
                x.varlink:2:2: error: expected 'type', 'method' or 'error', found character U+1F1E9
                \u{3000}🇩🇪 error E ()
                 ^
                """
        )
    }

    @Test func crlfLinesAreQuotedWithoutTheirLineEnd() {
        let found = diagnostics("interface org.example.x\r\ntype T (a: int,, b: int)\r\n", fileName: "crlf")
        #expect(found.count == 1)
        #expect(found.first?.sourceLine == "type T (a: int,, b: int)")
        #expect(found.first.map { "\($0.location)" } == "2:16")
    }

    @Test func longWordsAreShortenedInMessages() {
        let word = String(repeating: "abc", count: 100)
        let found = diagnostics(interfaceSource("type T (a \(word))"))
        #expect(found.first?.message == "expected ':' or ',' after field name 'a', found '\(word.prefix(40))…'")
    }

    @Test func tooDeep() {
        let type = String(repeating: "[]", count: 250) + "int"
        let found = diagnostics(interfaceSource("type T (a: \(type))"), fileName: "deep")
        #expect(found.map(\.message) == ["type is nested too deeply (the limit is 200 levels)"])
        // The 200th '[]' is still accepted; the 201st is the problem.
        #expect(found.first.map { "\($0.location)" } == "2:\(12 + 200 * 2)")
    }

    @Test func diagnosticErrorJoinsDiagnostics() throws {
        let error = try #require(throws: DiagnosticError.self) {
            try InterfaceDefinition.parse(interfaceSource("type T (a: X, b: Y)"), fileName: "two")
        }
        #expect(
            error.description == """
                two:2:12: error: unknown type 'X' (the interface defines no type of that name)
                type T (a: X, b: Y)
                           ^
                two:2:18: error: unknown type 'Y' (the interface defines no type of that name)
                type T (a: X, b: Y)
                                 ^
                """
        )
    }

    @Test func diagnosticEqualityIncludesTheLocation() {
        let a = Diagnostic(fileName: "f", location: .init(line: 1, column: 2), message: "m", sourceLine: "l")
        var b = a
        #expect(a == b)
        b.location.column = 3
        #expect(a != b)
        #expect(Set([a, b]).count == 2)
    }

    @Test func defaultFileName() {
        #expect(diagnostics("", fileName: "<input>").first?.description.hasPrefix("<input>:1:1: error: ") == true)
        do {
            _ = try InterfaceDefinition.parse("")
            Issue.record("parsed empty input")
        } catch {
            #expect(error.diagnostics.first?.fileName == "<input>")
        }
    }
}
