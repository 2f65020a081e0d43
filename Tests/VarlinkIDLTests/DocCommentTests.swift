import Testing
import VarlinkIDL

@Suite("Doc comments")
struct DocCommentTests {
    private func fields(_ interface: InterfaceDefinition, member index: Int = 0) -> [Field] {
        guard interface.members.indices.contains(index), case .type(let type) = interface.members[index],
            case .structure(let body) = type.body
        else { return [] }
        return body.fields
    }

    @Test func docsOnEveryKindOfDeclaration() throws {
        let interface = try InterfaceDefinition.parse(
            """
            # The interface.
            interface org.example.docs

            # A struct.
            type S (
              # Field a.
              a: int,
              # Field b,
              # two lines.
              b: (
                # Nested field.
                c: int
              )
            )

            # An enum.
            type E (
              # Case one.
              one,
              two
            )

            # A method.
            method M() -> ()

            # An error.
            error Failed ()
            """
        )
        #expect(interface.doc == ["The interface."])
        #expect(interface.members.map(\.doc) == [["A struct."], ["An enum."], ["A method."], ["An error."]])
        let structFields = fields(interface)
        #expect(structFields.map(\.doc) == [["Field a."], ["Field b,", "two lines."]])
        if case .structure(let nested) = structFields[1].type {
            #expect(nested.fields.first?.doc == ["Nested field."])
        } else {
            Issue.record("b is not a struct")
        }
        if case .type(let e) = interface.members[1], case .enumeration(let cases) = e.body {
            #expect(cases.cases.map(\.doc) == [["Case one."], []])
        } else {
            Issue.record("E is not an enum")
        }
    }

    @Test func strippingTheHashAndOneSpace() throws {
        let interface = try InterfaceDefinition.parse(
            "#\n# one space\n#  two spaces\n#no space\n#\ttab\n# \n# trailing  \ninterface org.example.x\nerror E ()"
        )
        #expect(interface.doc == ["", "one space", " two spaces", "no space", "\ttab", "", "trailing  "])
    }

    @Test func blankLineSeparatesDocFromDeclaration() throws {
        let interface = try InterfaceDefinition.parse(
            """
            # License header, not a doc.

            # The doc.
            interface org.example.x

            # Loose comment.

            type T (
              # Loose comment in a struct.

              a: int
            )
            """
        )
        #expect(interface.doc == ["The doc."])
        #expect(interface.members.first?.doc == [])
        #expect(fields(interface).first?.doc == [])
    }

    @Test func whitespaceOnlyLineCountsAsBlank() throws {
        let interface = try InterfaceDefinition.parse("interface org.example.x\n# gone\n   \t\ntype T (a: int)")
        #expect(interface.members.first?.doc == [])
    }

    @Test func trailingCommentsAreNotDocsAndDoNotLeak() throws {
        let interface = try InterfaceDefinition.parse(
            """
            interface org.example.x # not the interface doc
            type T (
              created: string, # as RFC3339
              size: int, # bytes
              # real doc
              name: string # trailing
            ) # after the struct
            type U (a: int)
            """
        )
        #expect(interface.doc == [])
        #expect(fields(interface).map(\.doc) == [[], [], ["real doc"]])
        #expect(interface.members.map(\.doc) == [[], []])
    }

    @Test func commentsInsideAStructDoNotLeakToTheNextMember() throws {
        let interface = try InterfaceDefinition.parse(
            """
            interface org.example.x
            type T (
              a: int
              # stray comment before ')'
            )
            type U (
              b: int,
              # stray comment before the last field's end
              c: int)
            method M() -> ()
            """
        )
        #expect(interface.members.map(\.doc) == [[], [], []])
    }

    @Test func docMustBeOnTheLinesDirectlyAbove() throws {
        // A comment above a token that is not first on its line belongs to nothing.
        let interface = try InterfaceDefinition.parse(
            """
            interface org.example.x
            type T (a: int,
            # above b, but b is not declared on the next line by itself
            b: int, c: int)
            """
        )
        #expect(fields(interface).map(\.doc) == [[], ["above b, but b is not declared on the next line by itself"], []])
    }

    @Test func commentedOutMembersStayInTheDoc() throws {
        let interface = try InterfaceDefinition.parse(
            """
            interface org.example.x

            # WaitPod is not implemented yet.
            # method WaitPod() -> (pod: string)
            #
            # #### Example
            # ~~~
            # $ varlink call io.podman.Ping
            # ~~~
            method Ping() -> ()
            """
        )
        #expect(
            interface.members.first?.doc == [
                "WaitPod is not implemented yet.", "method WaitPod() -> (pod: string)", "", "#### Example", "~~~",
                "$ varlink call io.podman.Ping", "~~~",
            ]
        )
    }

    @Test func docsBeforeNonDeclarationTokensAreDropped() throws {
        let interface = try InterfaceDefinition.parse(
            """
            interface org.example.x
            method M(
              a: int
            )
            # before the arrow
            -> (
              b: int
            )
            # before the end of input
            """
        )
        #expect(interface.members.first?.doc == [])
    }

    @Test func nonASCIIDocText() throws {
        let interface = try InterfaceDefinition.parse("# Start, Test01, …, End — ünïcödé 🎉\ninterface org.example.x\nerror E ()")
        #expect(interface.doc == ["Start, Test01, …, End — ünïcödé 🎉"])
    }
}
