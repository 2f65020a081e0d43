import PodlinkInterfaces
import Testing
import Varlink
import VarlinkCertification

/// podman 1.x was served by Go varlink, which reads an absent field as its zero value and
/// ignores fields it does not know; its clients rely on both. A service opts into that
/// reading; everything else stays strict.
@Suite struct GoCompatibleDecodingTests {
    /// io.podman as podlinkd serves it: Go-compatible. Each method answers with what it read.
    struct EchoingPodman: IoPodman.ServiceProtocol {
        var parameterDecoding: JSONDecodingMode { .goCompatible }

        func waitContainer(
            _ parameters: IoPodman.Methods.WaitContainer.Parameters, call: VarlinkCall<IoPodman.Methods.WaitContainer.Reply>
        ) async throws -> IoPodman.Methods.WaitContainer.Reply {
            .init(exitcode: parameters.interval + (parameters.name == "x" ? 1000 : 0))
        }

        func ps(_ parameters: IoPodman.Methods.Ps.Parameters, call: VarlinkCall<IoPodman.Methods.Ps.Reply>) async throws
            -> IoPodman.Methods.Ps.Reply
        {
            let opts = parameters.opts
            let summary = "all=\(opts.all) filters=\(opts.filters ?? ["nil"]) last=\(opts.last ?? -2) sort=\(opts.sort ?? "nil")"
            return .init(containers: [
                IoPodman.PsContainer(
                    id: summary, image: "", command: "", created: "", ports: "", names: "", isInfra: false, status: "",
                    state: "", pidNum: 0, rootFsSize: 0, rwSize: 0, pod: "", createdAt: "", exitedAt: "", startedAt: "",
                    labels: [:], nsPid: "", cgroup: "", ipc: "", mnt: "", net: "", pidNs: "", user: "", uts: "", mounts: "")
            ])
        }
    }

    let service = VarlinkService(
        info: VarlinkServiceInfo(vendor: "Podlink", product: "test", version: "1", url: "https://example.invalid"),
        interfaces: [EchoingPodman().varlinkInterface, CertificationService().varlinkInterface]
    )

    private func call(_ method: String, _ parameters: String) async throws -> VarlinkReply {
        let value = try JSONValue(parsing: Array(parameters.utf8))
        return try #require(try await VarlinkLoopbackTransport(service: service).call(method: method, parameters: value, flags: []))
    }

    @Test func absentAndNullFieldsAreZeroValues() async throws {
        // python-podman 1.6 sends WaitContainer{name}, without interval.
        #expect(try await call("io.podman.WaitContainer", #"{"name":"x"}"#).parameterValue == ["exitcode": 1000])
        #expect(try await call("io.podman.WaitContainer", #"{"name":"x","interval":null}"#).parameterValue == ["exitcode": 1000])
        #expect(try await call("io.podman.WaitContainer", #"{}"#).parameterValue == ["exitcode": 0])
        #expect(try await call("io.podman.WaitContainer", #"{"name":"y","interval":7}"#).parameterValue == ["exitcode": 7])
    }

    @Test func anAbsentStructIsAStructOfZeroValues() async throws {
        let reply = try await call("io.podman.Ps", #"{}"#)
        let id = try reply.decode(IoPodman.Methods.Ps.Reply.self).containers.first?.id
        // Optional fields inside stay absent (nil); required ones are zero.
        #expect(id == "all=false filters=[\"nil\"] last=-2 sort=nil")
        let given = try await call("io.podman.Ps", #"{"opts":{"all":true,"last":3,"sort":"names","newField":{"a":1}}}"#)
        #expect(try given.decode(IoPodman.Methods.Ps.Reply.self).containers.first?.id == "all=true filters=[\"nil\"] last=3 sort=names")
    }

    @Test func unknownFieldsAreIgnored() async throws {
        let reply = try await call("io.podman.WaitContainer", #"{"name":"y","interval":1,"timeout":5,"extra":{"x":[1]}}"#)
        #expect(reply.parameterValue == ["exitcode": 1])
    }

    @Test func wrongTypesStayInvalidParameterWithThePath() async throws {
        let reply = try await call("io.podman.WaitContainer", #"{"name":"x","interval":"250ms"}"#)
        #expect(reply.error == "org.varlink.service.InvalidParameter")
        #expect(reply.parameterValue == ["parameter": "interval"])
        let nested = try await call("io.podman.Ps", #"{"opts":{"all":"yes"}}"#)
        #expect(nested.error == "org.varlink.service.InvalidParameter")
        #expect(nested.parameterValue == ["parameter": "opts.all"])
    }

    @Test func theOtherInterfaceOfTheSameServiceStaysStrict() async throws {
        let extra = try await call("org.varlink.certification.Test01", #"{"client_id":"a","extra":1}"#)
        #expect(extra.error == "org.varlink.service.InvalidParameter")
        #expect(extra.parameterValue == ["parameter": "extra"])
        let absent = try await call("org.varlink.certification.Test01", #"{}"#)
        #expect(absent.error == "org.varlink.service.InvalidParameter")
        #expect(absent.parameterValue == ["parameter": "client_id"])
    }

    @Test func zeroValuesOfEveryKind() throws {
        let document = try JSONDocument(parsing: Array("{}".utf8))
        let opts = try document.decode(IoPodman.PsOpts.self, mode: .goCompatible)
        #expect(opts.all == false && opts.filters == nil && opts.last == nil)
        let info = try document.decode(IoPodman.PodmanInfo.self, mode: .goCompatible)
        #expect(info.host.cpus == 0 && info.host.distribution.distribution == "" && info.registries.search == [])
        #expect(info.store.graphStatus.supportsDType == "")
        // The same empty object is an error when read strictly or leniently.
        #expect(throws: JSONDecodingError.self) { try document.decode(IoPodman.PsOpts.self, mode: .strict) }
        #expect(throws: JSONDecodingError.self) { try document.decode(IoPodman.PsOpts.self, mode: .lenient) }
        // An enum's zero value is the empty string, kept as an unrecognized value.
        #expect(Certification.MyType.Enum.absentFieldValue == .unrecognized(""))
    }
}
