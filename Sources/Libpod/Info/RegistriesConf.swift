import TOMLKit

/// The two shapes of containers-registries.conf that `info` reports from.
enum RegistriesConf {
    static func parse(_ text: String) -> (search: [String], insecure: [String], blocked: [String]) {
        guard let table = try? TOMLTable(string: text) else { return ([], [], []) }
        var search = strings(table["unqualified-search-registries"])
        var insecure: [String] = []
        var blocked: [String] = []
        if let registries = table["registry"]?.array {
            for entry in registries {
                guard let entry = entry.table, let location = entry["prefix"]?.string ?? entry["location"]?.string else { continue }
                if entry["insecure"]?.bool == true { insecure.append(location) }
                if entry["blocked"]?.bool == true { blocked.append(location) }
            }
        }
        if let v1 = table["registries"]?.table {
            search += strings(v1["search"]?.table?["registries"])
            insecure += strings(v1["insecure"]?.table?["registries"])
            blocked += strings(v1["block"]?.table?["registries"])
        }
        return (search, insecure, blocked)
    }

    private static func strings(_ value: (any TOMLValueConvertible)?) -> [String] {
        value?.array?.compactMap { $0.string } ?? []
    }
}
