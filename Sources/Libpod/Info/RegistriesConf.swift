import TOMLKit

/// The two shapes of containers-registries.conf that `info` reports from.
enum RegistriesConf {
    static func parse(_ text: String) -> (search: [String], insecure: [String]) {
        guard let table = try? TOMLTable(string: text) else { return ([], []) }
        var search = strings(table["unqualified-search-registries"])
        var insecure: [String] = []
        if let registries = table["registry"]?.array {
            for entry in registries {
                guard let entry = entry.table, entry["insecure"]?.bool == true else { continue }
                if let location = entry["location"]?.string ?? entry["prefix"]?.string { insecure.append(location) }
            }
        }
        if let v1 = table["registries"]?.table {
            search += strings(v1["search"]?.table?["registries"])
            insecure += strings(v1["insecure"]?.table?["registries"])
        }
        return (search, insecure)
    }

    private static func strings(_ value: (any TOMLValueConvertible)?) -> [String] {
        value?.array?.compactMap { $0.string } ?? []
    }
}
