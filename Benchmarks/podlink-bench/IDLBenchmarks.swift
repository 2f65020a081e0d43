import Foundation
import VarlinkCodegen
import VarlinkIDL

/// The whole generator pipeline on podman's largest interface file.
enum IDLBenchmarks {
    static func run(_ harness: inout Harness, root: URL) throws {
        print("IDL: io.podman v1.9.3 (\(root.path)/Tests/Fixtures/io.podman-v1.9.3.varlink)")
        let source = try String(
            contentsOf: root.appending(path: "Tests/Fixtures/io.podman-v1.9.3.varlink"),
            encoding: .utf8
        )
        harness.measure("parse + resolve") {
            _ = try? InterfaceDefinition.parse(source)
        }
        harness.measure("format (canonical description)") {
            let interface = try? InterfaceDefinition.parse(source)
            precondition(interface?.canonicalDescription.isEmpty == false)
        }
        let whole = try harness.measure("parse + resolve + generate Swift") {
            let interface = try InterfaceDefinition.parse(source)
            let swift = SwiftGenerator().generate(interface, sourceFileName: "io.podman.varlink")
            precondition(swift.count > 10_000)
        }
        print(String(format: "  goal: under 50 ms: %@", whole.median < 50_000_000 ? "met" : "NOT met"))
    }
}
