/// Accumulates Swift source line by line with the current indentation.
struct CodeWriter {
    private(set) var text = ""
    private var level = 0
    private let unit = "    "

    mutating func line(_ content: String = "") {
        if content.isEmpty {
            text += "\n"
        } else {
            text += String(repeating: unit, count: level) + content + "\n"
        }
    }

    /// Writes `opening`, the body one level deeper, then `closing`.
    mutating func block(_ opening: String, closing: String = "}", _ body: (inout CodeWriter) -> Void) {
        line(opening)
        level += 1
        body(&self)
        level -= 1
        line(closing)
    }

    /// `///` lines for an IDL doc comment.
    mutating func doc(_ lines: [String]) {
        for docLine in lines {
            line(docLine.isEmpty ? "///" : "/// " + docLine)
        }
    }

    /// Text with no indentation added (the body of a multi-line string literal).
    mutating func verbatim(_ content: String) {
        text += content
    }

    var indentation: String { String(repeating: unit, count: level) }
}
