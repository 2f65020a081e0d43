/// podman's generated names: `adjective_surname`, retried until unused.
public enum NameGenerator {
    static let adjectives = [
        "agile", "amber", "ample", "brave", "bright", "brisk", "calm", "candid", "careful", "cheerful",
        "clever", "cosmic", "crisp", "curious", "daring", "dazzling", "eager", "earnest", "elated", "electric",
        "fearless", "fervent", "festive", "fluent", "focused", "frank", "gallant", "gentle", "gifted", "glad",
        "graceful", "hardy", "hopeful", "humble", "jolly", "jovial", "keen", "kind", "lively", "loyal",
        "lucid", "merry", "mindful", "modest", "nimble", "noble", "patient", "placid", "polite", "proud",
        "quiet", "radiant", "rapid", "serene", "sharp", "sincere", "steady", "sturdy", "swift", "tender",
        "thrifty", "tidy", "upbeat", "valiant", "vibrant", "vigilant", "warm", "wise", "witty", "zealous",
    ]

    static let surnames = [
        "agnesi", "archimedes", "babbage", "bardeen", "bartik", "bell", "blackwell", "bohr", "boole", "borg",
        "cannon", "cerf", "chandrasekhar", "curie", "darwin", "dijkstra", "einstein", "euclid", "euler", "faraday",
        "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "hamilton", "hawking",
        "heisenberg", "hertz", "hodgkin", "hopper", "hypatia", "johnson", "joliot", "kepler", "knuth", "kowalevski",
        "lamarr", "leakey", "lovelace", "lumiere", "maxwell", "mayer", "mcclintock", "meitner", "mendel", "mirzakhani",
        "morse", "napier", "newton", "noether", "pascal", "pasteur", "planck", "poincare", "ramanujan", "ritchie",
        "shannon", "sinoussi", "snyder", "tesla", "thompson", "torvalds", "turing", "volta", "wilson", "wozniak",
        "wu", "yalow",
    ]

    /// A random name that `inUse` says is free; after many collisions a numeric suffix
    /// keeps the search finite however full the namespace is.
    public static func generate(inUse: (String) async throws(LibpodError) -> Bool) async throws(LibpodError) -> String {
        var attempt = 0
        while true {
            var name = "\(adjectives.randomElement()!)_\(surnames.randomElement()!)"
            if attempt >= 16 { name += String(Int.random(in: 0..<1_000_000)) }
            if try await !inUse(name) { return name }
            attempt += 1
        }
    }
}
