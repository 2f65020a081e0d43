import Foundation
import Testing
import VarlinkIDL

/// A small deterministic generator, so every failure reproduces from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Checks the contract for any input: parsing returns, and either succeeds (then formatting
/// round-trips) or reports diagnostics that point into the input and quote the right line.
/// Returns a description of the first broken promise, or nil.
func contractViolation(_ source: String) -> String? {
    do {
        let interface = try InterfaceDefinition.parse(source, fileName: "mutant")
        let formatted = interface.canonicalDescription
        guard let reparsed = try? InterfaceDefinition.parse(formatted) else { return "formatted text does not parse:\n\(formatted)" }
        guard reparsed == interface else { return "parse(format(x)) != x" }
        guard reparsed.canonicalDescription == formatted else { return "format is not idempotent" }
        return nil
    } catch {
        guard !error.diagnostics.isEmpty else { return "threw no diagnostics" }
        let lines = sourceLines(source)
        for diagnostic in error.diagnostics {
            let (line, column) = (diagnostic.location.line, diagnostic.location.column)
            guard line >= 1, line <= lines.count else { return "line \(line) outside 1...\(lines.count): \(diagnostic)" }
            guard diagnostic.sourceLine == lines[line - 1] else { return "wrong source line for \(diagnostic)" }
            guard column >= 1, column <= diagnostic.sourceLine.count + 1 else { return "column \(column) outside the line: \(diagnostic)" }
            guard diagnostic.fileName == "mutant", !diagnostic.message.isEmpty else { return "bad fields: \(diagnostic)" }
        }
        return nil
    }
}

@Suite("Robustness", .timeLimit(.minutes(5)))
struct RobustnessTests {
    static let corpus: [String] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Corpus/interfaces").standardized.path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().map { "\(directory)/\($0)" }
    }()

    /// Each file of the bad-input corpus parses (and then formats idempotently) or fails
    /// with diagnostics that name the file and a line.
    @Test(arguments: corpus)
    func corpusInterfacesParseOrFailWithDiagnostics(_ file: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: file))
        let source = String(decoding: bytes, as: UTF8.self)
        do {
            let interface = try InterfaceDefinition.parse(source, fileName: file)
            let formatted = interface.canonicalDescription
            #expect(try InterfaceDefinition.parse(formatted, fileName: file).canonicalDescription == formatted)
        } catch {
            #expect(!error.diagnostics.isEmpty)
            for diagnostic in error.diagnostics {
                #expect(diagnostic.fileName == file)
                #expect(diagnostic.location.line >= 1)
            }
        }
    }

    /// Fragments that stress the lexer and parser when inserted anywhere.
    static let insertions: [String] = [
        "(", ")", "?", "??", "[", "]", "[]", "[string]", "#", "# ", "\n", "\r", "\r\n", "\0", "\u{FFFD}",
        ":", ",", "-", ">", "->", " ", "\t", "a", "Z", "_", ".", "é", "\u{0301}", "\u{2028}", "\u{3000}",
        "\u{FEFF}", "🇩🇪", "type ", "method ", "error ", "interface ", "int", "(a: int)", "(x, y)", "\n\n",
    ]

    static func mutate(_ scalars: inout [Unicode.Scalar], using rng: inout SplitMix64) {
        let count = scalars.count
        let position = count == 0 ? 0 : Int.random(in: 0..<count, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0 where count > 0:  // delete a short run
            let length = min(Int.random(in: 1...8, using: &rng), count - position)
            scalars.removeSubrange(position..<position + length)
        case 1 where count > 0:  // duplicate a run in place
            let length = min(Int.random(in: 1...40, using: &rng), count - position)
            scalars.insert(contentsOf: scalars[position..<position + length], at: position)
        case 2 where count > 1:  // swap two characters
            scalars.swapAt(position, Int.random(in: 0..<count, using: &rng))
        case 3 where count > 0:  // replace a character
            let fragment = insertions.randomElement(using: &rng) ?? "("
            scalars.replaceSubrange(position..<position + 1, with: fragment.unicodeScalars)
        case 4:  // insert a random scalar, ASCII or not
            let value = Int.random(in: 0..<4, using: &rng) == 0 ? UInt32.random(in: 0x80...0x2FFF, using: &rng) : UInt32.random(in: 0...0x7F, using: &rng)
            scalars.insert(Unicode.Scalar(value) ?? "\u{FFFD}", at: position)
        case 5 where count > 0:  // truncate
            scalars.removeSubrange(position...)
        default:  // insert a fragment
            let fragment = insertions.randomElement(using: &rng) ?? "("
            scalars.insert(contentsOf: fragment.unicodeScalars, at: position)
        }
    }

    private static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Thousands of seeded mutations of real interfaces, split into batches that run in parallel.
    @Test(arguments: 0..<8)
    func mutations(batch: Int) async throws {
        let sources = [
            Fixtures.certificationSource,
            Fixtures.certificationCanonical,
            try Fixtures.reference("io.podman-v1.9.3.varlink"),
            try Fixtures.reference("io.podman-v1.0.0.varlink"),
        ].map { Array($0.unicodeScalars) }
        // The small certification file mutates the most often: its parse is cheap, and a
        // mutation there more often lands somewhere that matters.
        let schedule = [0, 1, 0, 1, 0, 1, 0, 2, 0, 1, 0, 3]
        var rng = SplitMix64(seed: 0xC0FFEE &+ UInt64(batch))
        var parsedCount = 0
        let iterations = 300
        for iteration in 0..<iterations {
            // Long CPU loops yield now and then: the suite shares two threads with tests
            // that run real servers, which must not starve.
            if iteration % 20 == 0 { await Task.yield() }
            var scalars = sources[schedule[iteration % schedule.count]]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                Self.mutate(&scalars, using: &rng)
            }
            let source = Self.string(scalars)
            if let violation = contractViolation(source) {
                Issue.record("batch \(batch) iteration \(iteration): \(violation)")
                return
            }
            if (try? InterfaceDefinition.parse(source)) != nil { parsedCount += 1 }
        }
        // Some mutations (inside comments, duplicated whitespace) keep the file valid; if
        // none did, the mutator would be testing nothing but the first line.
        #expect(parsedCount > 0)
        #expect(parsedCount < iterations)
    }

    @Test(arguments: 0..<4)
    func randomBytes(seed: Int) async {
        var rng = SplitMix64(seed: UInt64(seed))
        for length in [0, 1, 2, 7, 64, 1000, 20000] {
            await Task.yield()
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Invalid UTF-8 arrives as U+FFFD, as it would through any String API.
            let garbage = String(decoding: bytes, as: UTF8.self)
            #expect(contractViolation(garbage) == nil)
            #expect(contractViolation("interface org.example.x\ntype T (" + garbage) == nil)
            #expect(contractViolation("interface org.example.x\n# " + garbage) == nil)
        }
    }

    @Test func randomTokenSoup() async {
        var rng = SplitMix64(seed: 42)
        for iteration in 0..<300 {
            if iteration % 20 == 0 { await Task.yield() }
            var text = "interface org.example.soup\n"
            for _ in 0..<Int.random(in: 1...60, using: &rng) {
                text += Self.insertions.randomElement(using: &rng) ?? ""
                text += ["", " ", "\n", "a: ", "b, ", "T"].randomElement(using: &rng) ?? ""
            }
            if let violation = contractViolation(text) {
                Issue.record("\(violation)\n\(text)")
                return
            }
        }
    }

    // MARK: Deep nesting

    /// Pathologically deep types; an enum so the test report names them instead of
    /// printing 100k-character arguments.
    enum DeepType: CaseIterable, Sendable {
        case parentheses, structs, optionalArrays, arrays, dictionaries, mixed, optionals

        var text: String {
            switch self {
            case .parentheses: String(repeating: "(", count: 100_000)
            case .structs: String(repeating: "(a: ", count: 100_000) + "int"
            case .optionalArrays: String(repeating: "?[]", count: 50_000) + "int"
            case .arrays: String(repeating: "[]", count: 100_000) + "int"
            case .dictionaries: String(repeating: "[string]", count: 100_000) + "()"
            case .mixed: String(repeating: "(a: [](b, c), d: ?", count: 20_000) + "int"
            case .optionals: String(repeating: "?", count: 100_000) + "int"
            }
        }
    }

    @Test(arguments: DeepType.allCases)
    func deepNestingIsRejectedCleanly(type: DeepType) {
        let source = interfaceSource("type T (a: \(type.text))")
        let found = diagnostics(source)
        #expect(found.count == 1)
        #expect(contractViolation(source) == nil)
    }

    @Test func nestingUpToTheLimitWorks() throws {
        let limit = 200
        // The leaf counts as a level: 199 wrappers plus `int` is 200.
        let deepest = String(repeating: "?[]", count: (limit - 1) / 2) + "[]int"
        let interface = try InterfaceDefinition.parse(interfaceSource("type T (a: \(deepest))"))
        expectRoundTrip(interface)
        #expect(diagnostics(interfaceSource("type T (a: []\(deepest))")).map(\.message) == ["type is nested too deeply (the limit is 200 levels)"])

        let structs = String(repeating: "(a: ", count: limit - 1) + "int" + String(repeating: ")", count: limit - 1)
        let nested = try InterfaceDefinition.parse(interfaceSource("type T (a: \(structs))"))
        expectRoundTrip(nested)
        #expect(diagnostics(interfaceSource("type T (a: (a: \(structs)))")).count == 1)
    }

    /// The parser and resolver walk types with explicit stacks, so even unoptimised builds
    /// handle the deepest legal types on a small thread stack (macOS gives secondary
    /// threads 512 KB). Run on a 256 KB thread: a regression crashes the test process.
    @Test func deepTypesNeedLittleStack() async {
        let sources = [
            String(repeating: "(a: ", count: 199) + "int" + String(repeating: ")", count: 199),
            String(repeating: "(a: ?[]", count: 66) + "(x, y)" + String(repeating: ")", count: 66),
            String(repeating: "(", count: 100_000),
        ].map { interfaceSource("type T (a: \($0))") }
        let outcomes = await withCheckedContinuation { (continuation: CheckedContinuation<[Bool], Never>) in
            let thread = Thread {
                continuation.resume(returning: sources.map { (try? InterfaceDefinition.parse($0)) != nil })
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        #expect(outcomes == [true, true, false])
    }

    // MARK: Huge inputs

    @Test func hugeValidInterface() throws {
        var source = "# A big one.\ninterface org.example.huge\n"
        let typeCount = 12_000
        for index in 0..<typeCount {
            source += """

                # Type \(index), documented
                # over two lines.
                type T\(index) (
                  # the first field
                  first: ?[]string,
                  second: [string](a: int, b: ?T\((index + 1) % typeCount)), # trailing
                  third: (one, two, three)
                )

                """
        }
        #expect(source.utf8.count > 2_000_000)
        let interface = try InterfaceDefinition.parse(source, fileName: "huge")
        #expect(interface.members.count == typeCount)
        let formatted = interface.canonicalDescription
        #expect(try InterfaceDefinition.parse(formatted) == interface)
    }

    @Test func hugeSingleLines() throws {
        // One line holding 200k enum cases: columns must not be recomputed from the line start.
        let cases = (0..<200_000).map { "c\($0)" }.joined(separator: ", ")
        let interface = try InterfaceDefinition.parse("interface org.example.x\ntype E (\(cases))")
        guard case .enumeration(let body)? = interface.type(named: "E")?.body else {
            Issue.record("E is not an enum")
            return
        }
        #expect(body.cases.count == 200_000)
        #expect("\(body.cases[199_999].location)" == "2:\(cases.count - "c199999".count + 9)")

        // The same with an error at the very end, behind non-ASCII text.
        let found = diagnostics("interface org.example.x\ntype E (\(cases), é)")
        #expect(found.map(\.message) == ["expected a field name after ',', found character U+00E9"])
        #expect(found.first?.location.column == cases.count + 11)

        // A megabyte-long word and a megabyte-long comment.
        let word = String(repeating: "w", count: 1_000_000)
        #expect(diagnostics(interfaceSource("type T (a \(word))")).first?.message.count ?? 0 < 200)
        let comment = "# " + String(repeating: "…", count: 1_000_000) + "\n"
        #expect(try InterfaceDefinition.parse(comment + "interface org.example.x\nerror E ()").doc.first?.count == 1_000_000)
    }

    @Test func manyDuplicatesAreAllReported() {
        let fields = (0..<20_000).map { _ in "a: int" }.joined(separator: ",\n")
        let found = diagnostics(interfaceSource("type T (\n\(fields)\n)"))
        #expect(found.count == 19_999)
        #expect(found.last.map { "\($0.location)" } == "20002:1")
    }
}
