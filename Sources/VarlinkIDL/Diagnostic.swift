/// One problem found in an interface file, with enough context to print it like a compiler.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public var fileName: String
    /// 1-based line and column; the column counts characters, not bytes.
    public var location: SourceLocation
    public var message: String
    /// The text of `location.line`, without its line break.
    public var sourceLine: String

    public init(fileName: String, location: SourceLocation, message: String, sourceLine: String) {
        self.fileName = fileName
        self.location = location
        self.message = message
        self.sourceLine = sourceLine
    }

    /// ```
    /// FILE:LINE:COL: error: MESSAGE
    /// <the source line>
    /// <spaces>^
    /// ```
    public var description: String {
        let caret = String(repeating: " ", count: max(0, location.column - 1)) + "^"
        return "\(fileName):\(location.line):\(location.column): error: \(message)\n\(sourceLine)\n\(caret)"
    }

    // `SourceLocation` deliberately compares equal everywhere (see AST.swift), but for a
    // diagnostic the position is the point, so compare it explicitly.
    public static func == (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        lhs.fileName == rhs.fileName && lhs.location.line == rhs.location.line
            && lhs.location.column == rhs.location.column && lhs.message == rhs.message
            && lhs.sourceLine == rhs.sourceLine
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fileName)
        hasher.combine(location.line)
        hasher.combine(location.column)
        hasher.combine(message)
        hasher.combine(sourceLine)
    }
}

/// What `InterfaceDefinition.parse` throws: every diagnostic it found, in source order.
public struct DiagnosticError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Looks up source lines by number, splitting lines exactly where the lexer does.
///
/// Only built on the error path; the table of line starts is computed once, so any number
/// of diagnostics costs linear time overall.
struct SourceLines {
    private let bytes: [UInt8]
    private let lineStarts: [Int]

    init(_ source: String) {
        self.init(bytes: Array(source.utf8))
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        var index = 0
        while index < bytes.count {
            let breakLength = SourceCharacters.lineBreakLength(bytes, at: index)
            if breakLength > 0 {
                index += breakLength
                starts.append(index)
            } else {
                index += 1
            }
        }
        self.lineStarts = starts
    }

    /// The text of 1-based line `number` without its line break; "" if there is no such line.
    func text(ofLine number: Int) -> String {
        guard number >= 1, number <= lineStarts.count else { return "" }
        let start = lineStarts[number - 1]
        var end = start
        while end < bytes.count, SourceCharacters.lineBreakLength(bytes, at: end) == 0 {
            end += 1
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    func diagnostic(_ message: String, at location: SourceLocation, fileName: String) -> Diagnostic {
        Diagnostic(fileName: fileName, location: location, message: message, sourceLine: text(ofLine: location.line))
    }
}
