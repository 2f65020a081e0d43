import Testing
import VarlinkIDL

/// podman's published interfaces, the practical stress test of the parser (§3.3).
@Suite("Reference files")
struct ReferenceFileTests {
    @Test(arguments: [
        ("io.podman-v1.9.3.varlink", 42, 97, 13),
        ("io.podman-v1.0.0.varlink", 30, 67, 8),
    ])
    func podmanParsesAndRoundTrips(file: String, types: Int, methods: Int, errors: Int) throws {
        let source = try Fixtures.reference(file)
        let interface = try InterfaceDefinition.parse(source, fileName: file)
        #expect(interface.name == "io.podman")
        #expect(interface.types.count == types)
        #expect(interface.methods.count == methods)
        #expect(interface.errors.count == errors)
        expectRoundTrip(interface)

        // Line endings don't matter.
        let crlf = source.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try InterfaceDefinition.parse(crlf, fileName: file) == interface)
    }

    @Test func podmanV193Details() throws {
        let interface = try InterfaceDefinition.parse(try Fixtures.reference("io.podman-v1.9.3.varlink"))
        #expect(interface.doc.first?.hasPrefix("Podman Service Interface and API description.") == true)

        // `created: string, # as RFC3339` must not document `size`.
        guard case .structure(let image)? = interface.type(named: "Image")?.body else {
            Issue.record("Image is not a struct")
            return
        }
        #expect(image.fields.map(\.name).prefix(8) == ["id", "digest", "digests", "parentId", "repoTags", "repoDigests", "created", "size"])
        #expect(image.fields.allSatisfy { $0.doc.isEmpty })

        // `parseLogType : string`
        guard case .structure(let logLine)? = interface.type(named: "LogLine")?.body else {
            Issue.record("LogLine is not a struct")
            return
        }
        #expect(logLine.fields.contains { $0.name == "parseLogType" && $0.type == .string })

        // `type Sockets(` and `type Event(` without a space
        #expect(interface.type(named: "Sockets") != nil)
        #expect(interface.type(named: "Event") != nil)

        let getVersion = interface.methods.first { $0.name == "GetVersion" }
        #expect(getVersion?.doc == ["GetVersion returns version and build information of the podman service"])
        #expect(interface.methods.contains { $0.name == "UnmountContainer" })
    }

    @Test func podmanCanonicalFormStartsAsExpected() throws {
        let interface = try InterfaceDefinition.parse(try Fixtures.reference("io.podman-v1.9.3.varlink"))
        let expectedStart = """
            # Podman Service Interface and API description.  The master version of this document can be found
            # in the [API.md](https://github.com/containers/libpod/blob/master/API.md) file in the upstream libpod repository.
            interface io.podman

            type Volume (
              name: string,
              labels: [string]string,
              mountPoint: string,
              driver: string,
              options: [string]string
            )

            type NotImplemented (comment: string)

            type StringResponse (message: string)

            type RemoveImageResponse (untagged: []string, deleted: string)

            """
        #expect(interface.canonicalDescription.hasPrefix(expectedStart))
    }
}
