import PodlinkInterfaces
import Varlink

/// The values the certification sequence passes around, as the reference
/// implementations define them.
public enum CertificationValues {
    static let test05 = OrgVarlinkCertification.Methods.Test05.Reply(
        bool: false,
        int: 2,
        float: 3.141592653589793,
        string: "a lot of string"
    )

    static let map: [String: String] = ["foo": "Foo", "bar": "Bar"]

    static let set: Set<String> = ["one", "two", "three"]

    static let myType = OrgVarlinkCertification.MyType(
        object: [
            "method": "org.varlink.certification.Test09",
            "parameters": ["map": ["foo": "Foo", "bar": "Bar"]],
        ],
        enum: .two,
        struct: .init(first: 1, second: "2"),
        array: ["one", "two", "three"],
        dictionary: ["foo": "Foo", "bar": "Bar"],
        stringset: ["one", "two", "three"],
        nullable: nil,
        nullableArrayStruct: nil,
        interface: .init(
            foo: [nil, ["foo": .foo, "bar": .bar], nil, ["one": .foo, "two": .bar]],
            anon: .init(foo: true, bar: false)
        )
    )

    static let test10Replies = (1...10).map { "Reply number \($0)" }
}
