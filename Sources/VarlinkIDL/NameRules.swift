/// The three name grammars of the IDL, checked by hand rather than with a regex engine so
/// that they cost linear time and no allocation.
enum NameRules {
    /// `[A-Za-z]([-]*[A-Za-z0-9])*(\.[A-Za-z0-9]([-]*[A-Za-z0-9])*)+`: at least two labels;
    /// each label is letters, digits and hyphens, starts and ends with a letter or digit;
    /// the first label starts with a letter.
    static func isInterfaceName(_ name: String) -> Bool {
        let labels = name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for (index, label) in labels.enumerated() {
            guard let first = label.first, let last = label.last else { return false }
            if index == 0 ? !SourceCharacters.isLetter(first) : !SourceCharacters.isAlphanumeric(first) { return false }
            guard SourceCharacters.isAlphanumeric(last) else { return false }
            guard label.allSatisfy({ SourceCharacters.isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    /// `[A-Z][A-Za-z0-9]*`: the name of a type, method or error.
    static func isMemberName(_ name: String) -> Bool {
        guard let first = name.utf8.first, SourceCharacters.isUppercase(first) else { return false }
        return name.utf8.allSatisfy(SourceCharacters.isAlphanumeric)
    }

    /// `[A-Za-z](_?[A-Za-z0-9])*`: a struct field or enum case; `_` only between two
    /// letters or digits.
    static func isFieldName(_ name: String) -> Bool {
        guard let first = name.utf8.first, SourceCharacters.isLetter(first) else { return false }
        var previousWasUnderscore = false
        for byte in name.utf8.dropFirst() {
            if byte == UInt8(ascii: "_") {
                if previousWasUnderscore { return false }
                previousWasUnderscore = true
            } else if SourceCharacters.isAlphanumeric(byte) {
                previousWasUnderscore = false
            } else {
                return false
            }
        }
        return !previousWasUnderscore
    }
}
