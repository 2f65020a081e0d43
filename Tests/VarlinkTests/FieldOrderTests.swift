import Testing
import Varlink

/// A struct's fields are looked up from where the previous lookup ended (encoders write
/// declaration order). Any other order, absent fields and unknown members in between
/// must read the same.
@Suite("struct fields in any order")
struct FieldOrderTests {
    static let members = [
        #""name":"web""#, #""env":["A=1","B=2"]"#, #""labels":{"k":"v","l":"w"}"#,
        #""mounts":[{"readOnly":true,"source":"/srv"},{"source":"/tmp"}]"#, #""note":null"#,
        #""annotations":{"a":"1"}"#,
    ]
    static let expected = Create(
        name: "web", env: ["A=1", "B=2"], labels: ["k": "v", "l": "w"],
        mounts: [Mount(source: "/srv", readOnly: true), Mount(source: "/tmp")], note: nil, annotations: ["a": "1"])

    @Test("every rotation and the reverse order decode to the same value")
    func rotationsAndReverse() throws {
        var orders = (0..<Self.members.count).map { Array(Self.members[$0...] + Self.members[..<$0]) }
        orders.append(Self.members.reversed())
        for order in orders {
            let text = "{" + order.joined(separator: ",") + "}"
            #expect(try decode(Create.self, text) == Self.expected, "\(text)")
        }
    }

    @Test("2,000 shuffles, with optional fields left out and unknown members mixed in (lenient)")
    func shuffles() throws {
        var random = SeededGenerator(seed: 7)
        let unknown = [#""extra":{"name":"not this one"}"#, #""zz":[1,{"env":2}]"#, #""n":null"#]
        for _ in 0..<2_000 {
            // name, env and labels are required; the rest may go.
            var chosen = Array(Self.members[..<3])
            var expected = Create(name: "web", env: ["A=1", "B=2"], labels: ["k": "v", "l": "w"])
            if Bool.random(using: &random) {
                chosen.append(Self.members[3])
                expected.mounts = Self.expected.mounts
            }
            if Bool.random(using: &random) { chosen.append(Self.members[4]) }
            if Bool.random(using: &random) {
                chosen.append(Self.members[5])
                expected.annotations = Self.expected.annotations
            }
            chosen += unknown.filter { _ in Bool.random(using: &random) }
            chosen.shuffle(using: &random)
            let text = "{" + chosen.joined(separator: ",") + "}"
            #expect(try decode(Create.self, text, mode: .lenient) == expected, "\(text)")
            // Strictly, an unknown member is an error, wherever it sits.
            let hasUnknown = chosen.contains { member in unknown.contains(member) }
            #expect((try decodingError(Create.self, text, mode: .strict) != nil) == hasUnknown, "\(text)")
        }
    }

    @Test("a missing required field is reported wherever the others are")
    func missingRequired() throws {
        for order in [[1, 2], [2, 1], [2, 5, 1], [5, 2, 3, 1]] {
            let text = "{" + order.map { Self.members[$0] }.joined(separator: ",") + "}"
            let error = try #require(try decodingError(Create.self, text))
            #expect(error.dottedPath == "name", "\(text)")
        }
    }
}
