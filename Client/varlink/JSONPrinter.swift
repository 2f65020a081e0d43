import Varlink

/// JSON ready to print. Objects keep their member order: replies are printed with sorted
/// keys, a parameter skeleton in declaration order.
indirect enum PrintableJSON {
    /// An encoded scalar token and how to colour it.
    case scalar(String, OutputStream.Style)
    case array([PrintableJSON])
    case object([(key: String, value: PrintableJSON)])

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .scalar("null", .literal)
        case .bool(let flag): self = .scalar(flag ? "true" : "false", .literal)
        case .int(let number): self = .scalar(String(number), .number)
        case .float: self = .scalar(value.jsonText, .number)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(PrintableJSON.init))
        case .object(let members):
            self = .object(members.keys.sorted().map { (key: $0, value: PrintableJSON(members[$0]!)) })
        }
    }

    static func string(_ text: String) -> PrintableJSON {
        .scalar(encodedString(text), .string)
    }

    static func encodedString(_ text: String) -> String {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// How JSON is laid out: `--json=pretty|short`, or by default pretty on a terminal.
enum JSONLayout: String, CaseIterable {
    case pretty
    case short
}

/// Renders JSON compactly (one line) or indented by two spaces, optionally coloured.
struct JSONPrinter {
    var layout: JSONLayout
    var colour: Bool

    /// The layout and colour for `stream`: `--json` wins; otherwise pretty and coloured on a
    /// terminal, compact elsewhere.
    init(layout: JSONLayout?, for stream: OutputStream) {
        self.layout = layout ?? (stream.isTerminal ? .pretty : .short)
        self.colour = stream.usesColour && self.layout == .pretty
    }

    func render(_ value: JSONValue) -> String {
        render(PrintableJSON(value))
    }

    func render(_ value: PrintableJSON) -> String {
        var output = ""
        write(value, indent: 0, into: &output)
        return output
    }

    private func write(_ value: PrintableJSON, indent: Int, into output: inout String) {
        let pretty = layout == .pretty
        switch value {
        case .scalar(let token, let style):
            output += paint(token, style)
        case .array(let elements):
            guard !elements.isEmpty else { return output += "[]" }
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                if pretty { newline(indent + 1, &output) }
                write(element, indent: indent + 1, into: &output)
            }
            if pretty { newline(indent, &output) }
            output += "]"
        case .object(let members):
            guard !members.isEmpty else { return output += "{}" }
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += "," }
                if pretty { newline(indent + 1, &output) }
                output += paint(PrintableJSON.encodedString(member.key), .key)
                output += pretty ? ": " : ":"
                write(member.value, indent: indent + 1, into: &output)
            }
            if pretty { newline(indent, &output) }
            output += "}"
        }
    }

    private func newline(_ indent: Int, _ output: inout String) {
        output += "\n"
        output += String(repeating: "  ", count: indent)
    }

    private func paint(_ token: String, _ style: OutputStream.Style) -> String {
        colour ? "\u{1B}[\(style.rawValue)m\(token)\u{1B}[0m" : token
    }
}
