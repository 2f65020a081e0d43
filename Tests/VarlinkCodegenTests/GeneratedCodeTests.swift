import PodlinkInterfaces
import PodlinkInterfaces
import Testing
import Varlink
import VarlinkCertification

typealias Certification = OrgVarlinkCertification

/// The generated code at work: the certification interface served and called in process,
/// every message going through its wire bytes.
@Suite struct GeneratedCodeTests {
    let service = VarlinkService(
        info: VarlinkServiceInfo(vendor: "Podlink", product: "test", version: "1", url: "https://example.invalid"),
        interfaces: [CertificationService().varlinkInterface]
    )

    var transport: VarlinkLoopbackTransport { VarlinkLoopbackTransport(service: service) }

    @Test func certificationSequencePasses() async throws {
        var steps: [String] = []
        try await CertificationClient(transport: transport).run { steps.append($0) }
        #expect(steps.map { String($0.prefix { $0 != ":" }) } == [
            "Start", "Test01", "Test02", "Test03", "Test04", "Test05", "Test06", "Test07", "Test08", "Test09",
            "Test10", "Test11", "End",
        ])
    }

    @Test func typedErrorsComeBackTyped() async throws {
        let client = Certification.Client(transport: transport)
        await #expect(throws: Certification.ClientIdError.self) {
            _ = try await client.test01(clientId: "nobody")
        }
        let id = try await client.start().clientId
        _ = try await client.test01(clientId: id)
        do {
            _ = try await client.test02(clientId: id, bool: false)
            Issue.record("Test02 with the wrong value succeeded")
        } catch let error as Certification.CertificationError {
            #expect(error.wants == ["bool": true])
            #expect(error.got == ["bool": false])
        }
    }

    @Test func badParametersNameTheFieldPath() async throws {
        struct WrongTest07: VarlinkEncodable {
            func encode(to writer: inout JSONWriter) {
                writer.beginObject()
                writer.key("client_id")
                writer.string("x")
                writer.key("struct")
                writer.beginObject()
                writer.key("bool")
                writer.string("not a bool")
                writer.endObject()
                writer.endObject()
            }
        }
        let reply = try #require(
            try await transport.call(method: "org.varlink.certification.Test07", parameters: WrongTest07(), flags: [])
        )
        #expect(reply.error == "org.varlink.service.InvalidParameter")
        #expect(reply.parameterValue == ["parameter": "struct.bool"])
    }

    @Test func unknownFieldInACallIsRejectedButIgnoredInAReply() throws {
        let call = try VarlinkIncomingCall(
            parsing: Array(#"{"method":"org.varlink.certification.Test01","parameters":{"client_id":"a","extra":1}}"#.utf8)
        )
        #expect(throws: VarlinkError.invalidParameter("extra")) {
            _ = try call.decodeParameters(Certification.Methods.Test01.Parameters.self)
        }
        let reply = try VarlinkReply(parsing: Array(#"{"parameters":{"bool":true,"client_id":"a"}}"#.utf8))
        #expect(try reply.decode(Certification.Methods.Test01.Reply.self).bool == true)
    }

    @Test func unknownEnumValuesAreKeptInRepliesAndRefusedInCalls() throws {
        let reply = try VarlinkReply(parsing: Array(#"{"parameters":{"foo":[{"x":"qux"}],"anon":{"foo":true,"bar":false}}}"#.utf8))
        let decoded = try reply.decode(Certification.Interface.self)
        #expect(decoded.foo == [["x": .unrecognized("qux")]])
        #expect(try decoded.jsonBytes() == Array(#"{"foo":[{"x":"qux"}],"anon":{"foo":true,"bar":false}}"#.utf8))

        let call = try VarlinkIncomingCall(
            parsing: Array(#"{"method":"a.b.C","parameters":{"foo":[null,{"x":"qux"}],"anon":{"foo":true,"bar":false}}}"#.utf8)
        )
        #expect(throws: VarlinkError.invalidParameter("foo[1].x")) {
            _ = try call.decodeParameters(Certification.Interface.self)
        }
    }

    @Test func optionalFieldsAreOmittedWhenNil() throws {
        var value = CertificationValuesProbe.myType
        value.nullable = nil
        let text = String(decoding: try value.jsonBytes(), as: UTF8.self)
        #expect(!text.contains("nullable"))
        value.nullable = "set"
        #expect(String(decoding: try value.jsonBytes(), as: UTF8.self).contains(#""nullable":"set""#))
    }

    @Test func keywordFieldsKeepTheirWireNames() throws {
        let value = Certification.Methods.Test06.Reply(struct: .init(bool: true, int: 1, float: 0.5, string: "s"))
        #expect(
            String(decoding: try value.jsonBytes(), as: UTF8.self)
                == #"{"struct":{"bool":true,"int":1,"float":0.5,"string":"s"}}"#
        )
    }

    @Test func podmanTypesRoundTrip() throws {
        let container = IoPodman.Container(
            id: "abc",
            image: "localhost/busybox:latest",
            imageid: "sha256:1",
            command: ["sh", "-c", "true"],
            createdat: "2026-11-29T00:00:00Z",
            runningfor: "1s",
            status: "running",
            ports: [],
            rootfssize: 0,
            rwsize: 0,
            names: "busy",
            labels: ["a": "b"],
            mounts: [],
            containerrunning: true,
            namespaces: .init(user: "", uts: "", pidns: "", pid: "", cgroup: "", net: "", mnt: "", ipc: "")
        )
        let reply = IoPodman.Methods.ListContainers.Reply(containers: [container])
        let decoded = try VarlinkReply(parsing: Array(#"{"parameters":"#.utf8) + (try reply.jsonBytes()) + Array("}".utf8))
            .decode(IoPodman.Methods.ListContainers.Reply.self)
        #expect(decoded == reply)
    }
}

/// A MyType value to mutate in tests.
enum CertificationValuesProbe {
    static let myType = Certification.MyType(
        object: [:],
        enum: .one,
        struct: .init(first: 1, second: "2"),
        array: [],
        dictionary: [:],
        stringset: [],
        interface: .init(anon: .init(foo: true, bar: false))
    )
}
