import Foundation
import Testing
import VarlinkIDL

/// Wraps members in a one-line interface header, so member lines start at line 2.
func interfaceSource(_ members: String) -> String {
    "interface org.example.test\n" + members
}

/// The diagnostics `source` produces, or [] if it parses.
func diagnostics(_ source: String, fileName: String = "test.varlink") -> [Diagnostic] {
    do {
        _ = try InterfaceDefinition.parse(source, fileName: fileName)
        return []
    } catch {
        return error.diagnostics
    }
}

/// The single-line type of field `a` in `type T (a: <type>)`.
func parseType(_ type: String) throws -> TypeExpression {
    let interface = try InterfaceDefinition.parse(interfaceSource("type T (a: \(type))\ntype N (x: int)"))
    guard case .type(let definition) = interface.members.first, case .structure(let body) = definition.body,
        let field = body.fields.first
    else {
        Issue.record("no field parsed from \(type)")
        return .bool
    }
    return field.type
}

/// Asserts the properties every successfully parsed interface must have: formatting is a
/// fixed point and re-parses to the same tree.
func expectRoundTrip(_ interface: InterfaceDefinition, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let formatted = interface.canonicalDescription
    do {
        let reparsed = try InterfaceDefinition.parse(formatted, fileName: "formatted")
        #expect(reparsed == interface, "parse(format(x)) != x", sourceLocation: sourceLocation)
        #expect(reparsed.canonicalDescription == formatted, "format is not idempotent", sourceLocation: sourceLocation)
    } catch {
        Issue.record("formatted text does not parse: \(error)\n\(formatted)", sourceLocation: sourceLocation)
    }
}

/// Splits text into lines where the IDL does (\n, \r\n, \r, U+2028, U+2029); independent
/// of the implementation so tests can check the lines diagnostics quote.
func sourceLines(_ text: String) -> [String] {
    var lines: [String] = []
    var current = ""
    var scalars = text.unicodeScalars.makeIterator()
    var pending = scalars.next()
    while let scalar = pending {
        pending = scalars.next()
        switch scalar {
        case "\n", "\u{2028}", "\u{2029}":
            lines.append(current)
            current = ""
        case "\r":
            if pending == "\n" { pending = scalars.next() }
            lines.append(current)
            current = ""
        default:
            current.unicodeScalars.append(scalar)
        }
    }
    lines.append(current)
    return lines
}

enum Fixtures {
    /// `../shared/reference` relative to the package root (/work/main), found from this
    /// file's real path; the test package may reach this file through a symlink, so both
    /// the resolved and the literal path are tried, and any ancestor's `shared/reference`
    /// is accepted as a fallback.
    static func referenceDirectory(filePath: String = #filePath) -> URL? {
        let fileManager = FileManager.default
        let literal = URL(fileURLWithPath: filePath)
        for start in [literal.resolvingSymlinksInPath(), literal] {
            var directory = start.deletingLastPathComponent()
            while directory.path != "/" {
                if fileManager.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                    // The package keeps its own copies, so a clone without ../shared still tests them.
                    let fixtures = directory.appendingPathComponent("Tests/Fixtures")
                    if fileManager.fileExists(atPath: fixtures.appendingPathComponent("io.podman-v1.0.0.varlink").path) {
                        return fixtures
                    }
                    let candidate = directory.deletingLastPathComponent().appendingPathComponent("shared/reference")
                    if fileManager.fileExists(atPath: candidate.path) { return candidate }
                }
                let sibling = directory.appendingPathComponent("shared/reference")
                if fileManager.fileExists(atPath: sibling.path) { return sibling }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// The text of a reference file; records a clear failure if it cannot be found.
    static func reference(_ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> String {
        let directory = try #require(
            referenceDirectory(),
            "cannot find shared/reference: expected it at ../shared/reference from the package root (searched up from \(#filePath))",
            sourceLocation: sourceLocation
        )
        let url = directory.appendingPathComponent(name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("reference file missing or unreadable: \(url.path)", sourceLocation: sourceLocation)
            throw FixtureMissing()
        }
        return text
    }

    struct FixtureMissing: Error {}

    /// org.varlink.certification as published (§4.1 of the notes, with the blank lines
    /// between members restored).
    static let certificationSource = """
        # Interface to test varlink implementations against.
        # First you write a varlink client calling:
        # Start, Test01, Test02, …, Test09, End
        # The return value of the previous call should be the argument of the next call.
        # Then you test this client against well known servers like python or rust from
        # https://github.com/varlink/
        #
        # Next you write a varlink server providing the same service as the well known ones.
        # Now run your client against it and run well known clients like python or rust
        # from https://github.com/varlink/ against your server. If all works out, then
        # your new language bindings should be varlink certified.
        interface org.varlink.certification

        type Interface (
          foo: ?[]?[string](foo, bar, baz),
          anon: (foo: bool, bar: bool)
        )

        type MyType (
          object: object,
          enum: (one, two, three),
          struct: (first: int, second: string),
          array: []string,
          dictionary: [string]string,
          stringset: [string](),
          nullable: ?string,
          nullable_array_struct: ?[](first: int, second: string),
          interface: Interface
        )

        method Start() -> (client_id: string)

        method Test01(client_id: string) -> (bool: bool)

        method Test02(client_id: string, bool: bool) -> (int: int)

        method Test03(client_id: string, int: int) -> (float: float)

        method Test04(client_id: string, float: float) -> (string: string)

        method Test05(client_id: string, string: string) -> (
          bool: bool,
          int: int,
          float: float,
          string: string
        )

        method Test06(
          client_id: string,
          bool: bool,
          int: int,
          float: float,
          string: string
        ) -> (
          struct: (
            bool: bool,
            int: int,
            float: float,
            string: string
          )
        )

        method Test07(
          client_id: string,
          struct: (
            bool: bool,
            int: int,
            float: float,
            string: string
          )
        ) -> (map: [string]string)

        method Test08(client_id: string, map: [string]string) -> (set: [string]())

        method Test09(client_id: string, set: [string]()) -> (mytype: MyType)

        # returns more than one reply with "continues"
        method Test10(client_id: string, mytype: MyType) -> (string: string)

        # must be called as "oneway"
        method Test11(client_id: string, last_more_replies: []string) -> ()

        method End(client_id: string) -> (all_ok: bool)

        error ClientIdError ()

        error CertificationError (wants: object, got: object)

        """

    /// What libvarlink's `varlink format` prints for `certificationSource` (checked against
    /// libvarlink v24 built from source). It equals the published file except for Test11,
    /// whose one-line parameter list is 48 characters, over libvarlink's 40.
    static let certificationCanonical = """
        # Interface to test varlink implementations against.
        # First you write a varlink client calling:
        # Start, Test01, Test02, …, Test09, End
        # The return value of the previous call should be the argument of the next call.
        # Then you test this client against well known servers like python or rust from
        # https://github.com/varlink/
        #
        # Next you write a varlink server providing the same service as the well known ones.
        # Now run your client against it and run well known clients like python or rust
        # from https://github.com/varlink/ against your server. If all works out, then
        # your new language bindings should be varlink certified.
        interface org.varlink.certification

        type Interface (
          foo: ?[]?[string](foo, bar, baz),
          anon: (foo: bool, bar: bool)
        )

        type MyType (
          object: object,
          enum: (one, two, three),
          struct: (first: int, second: string),
          array: []string,
          dictionary: [string]string,
          stringset: [string](),
          nullable: ?string,
          nullable_array_struct: ?[](first: int, second: string),
          interface: Interface
        )

        method Start() -> (client_id: string)

        method Test01(client_id: string) -> (bool: bool)

        method Test02(client_id: string, bool: bool) -> (int: int)

        method Test03(client_id: string, int: int) -> (float: float)

        method Test04(client_id: string, float: float) -> (string: string)

        method Test05(client_id: string, string: string) -> (
          bool: bool,
          int: int,
          float: float,
          string: string
        )

        method Test06(
          client_id: string,
          bool: bool,
          int: int,
          float: float,
          string: string
        ) -> (
          struct: (
            bool: bool,
            int: int,
            float: float,
            string: string
          )
        )

        method Test07(
          client_id: string,
          struct: (
            bool: bool,
            int: int,
            float: float,
            string: string
          )
        ) -> (map: [string]string)

        method Test08(client_id: string, map: [string]string) -> (set: [string]())

        method Test09(client_id: string, set: [string]()) -> (mytype: MyType)

        # returns more than one reply with "continues"
        method Test10(client_id: string, mytype: MyType) -> (string: string)

        # must be called as "oneway"
        method Test11(
          client_id: string,
          last_more_replies: []string
        ) -> ()

        method End(client_id: string) -> (all_ok: bool)

        error ClientIdError ()

        error CertificationError (wants: object, got: object)

        """
}
