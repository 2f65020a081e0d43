/// Every syntax error the parser reports, and its wording.
///
/// The parser throws these small values and renders the message in one out-of-line place.
/// Besides keeping the wording together, this keeps string building out of the recursive
/// parse functions, whose stack frames would otherwise grow by kilobytes per nesting level
/// in unoptimised builds.
enum SyntaxError {
    case missingInterfaceKeyword
    case missingInterfaceName
    case invalidInterfaceName
    /// `after` is e.g. "the interface name" or "the definition of 'Foo'".
    case missingLineBreak(after: String)
    case missingMemberKeyword
    case missingMemberName(keyword: String)
    case invalidMemberName
    case namedTypeNotComposite(name: String)
    case missingArrow(method: String)
    /// `role` is e.g. "the parameters of method 'Foo'".
    case missingStruct(role: String)
    case enumInsteadOfStruct(role: String)
    case missingColonOrComma(field: String)
    case missingColon(field: String)
    case missingFieldSeparator(field: String)
    case missingCaseSeparator(enumCase: String, firstCase: String)
    /// `after` is the quoted token before the missing name: "'('" or "','".
    case missingFieldName(after: String)
    case invalidFieldName
    case nestedTooDeeply
    case doubledOptional
    case notAType
    case bracketWithoutStringKey
    case missingType

    /// The message, given the token the parser found where it expected something else.
    func message(found token: Token) -> String {
        let found = token.quoted
        switch self {
        case .missingInterfaceKeyword:
            return "expected 'interface' at the start of the file, found \(found)"
        case .missingInterfaceName:
            return "expected an interface name after 'interface', found \(found)"
        case .invalidInterfaceName:
            return "invalid interface name \(found) (expected a reverse-domain name such as 'org.example.service')"
        case .missingLineBreak(let after):
            return "expected a line break after \(after), found \(found)"
        case .missingMemberKeyword:
            return "expected 'type', 'method' or 'error', found \(found)"
        case .missingMemberName(let keyword):
            return "expected a name after '\(keyword)', found \(found)"
        case .invalidMemberName:
            return "invalid name \(found) (names start with an uppercase letter and contain only letters and digits)"
        case .namedTypeNotComposite(let name):
            return "expected '(' after type name '\(name)', found \(found) (a named type must be a struct or an enum)"
        case .missingArrow(let method):
            return "expected '->' after the parameters of method '\(method)', found \(found)"
        case .missingStruct(let role):
            return "expected '(' to start \(role), found \(found)"
        case .enumInsteadOfStruct(let role):
            return "\(role) must be a struct, found an enum (give every field a type: 'name: type')"
        case .missingColonOrComma(let field):
            return "expected ':' or ',' after field name '\(field)', found \(found)"
        case .missingColon(let field):
            return "expected ':' after field name '\(field)', found \(found) (this is a struct, so every field needs a type)"
        case .missingFieldSeparator(let field):
            return "expected ',' or ')' after field '\(field)', found \(found)"
        case .missingCaseSeparator(let enumCase, let firstCase):
            let hint = token.kind == .colon ? " (this is an enum because '\(firstCase)' has no type)" : ""
            return "expected ',' or ')' after enum case '\(enumCase)', found \(found)\(hint)"
        case .missingFieldName(let after):
            return "expected a field name after \(after), found \(found)"
        case .invalidFieldName:
            return "invalid field name \(found) (field names start with a letter and contain letters, digits and single '_' between them)"
        case .nestedTooDeeply:
            return "type is nested too deeply (the limit is \(Parser.maxNestingDepth) levels)"
        case .doubledOptional:
            return "'?' cannot be doubled: a type is either optional or not"
        case .notAType:
            let kinds = "bool, int, float, string, object, any, a type name, or '(', '?', '[]', '[string]'"
            return "expected a type, found \(found) (types are \(kinds))"
        case .bracketWithoutStringKey:
            return "expected '[]' or '[string]', found \(found)"
        case .missingType:
            return "expected a type, found \(found)"
        }
    }
}
