/// The bridge plugin's masquerade rules of a container whose namespace is gone.
///
/// The bridge plugin learns which addresses to stop masquerading from the container's
/// interface, so its DEL without a namespace (after a reboot, or once the namespace was
/// lost) releases the address lease but leaves the rules. They are recognizable: every
/// one carries the comment `name: "NETWORK" id: "CONTAINER"`, in POSTROUTING and in a
/// chain of the container's own. This removes exactly those, in one iptables-restore.
enum StaleMasqueradeRules {
    /// Removes the container's rules from the nat table (and the chains that held only
    /// them); returns what failed, described.
    static func release(containerID: String, families: Set<Family> = [.ipv4]) async -> [String] {
        var failures: [String] = []
        for family in families.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let save = ExecutableDiscovery.search(family.save), let restore = ExecutableDiscovery.search(family.restore) else {
                failures.append("\(family.save) and \(family.restore) are not installed (Debian: iptables)")
                continue
            }
            do throws(LibpodError) {
                let saved = try await ProcessRunner.run(save, ["-t", "nat"])
                guard saved.succeeded else {
                    failures.append("\(family.save): \(saved.standardError)")
                    continue
                }
                guard let script = deletionScript(natTable: saved.standardOutput, containerID: containerID) else { continue }
                let restored = try await ProcessRunner.run(restore, ["--noflush", "--wait"], input: Array(script.utf8))
                if !restored.succeeded { failures.append("\(family.restore): \(restored.standardError)") }
            } catch {
                failures.append(error.description)
            }
        }
        return failures
    }

    enum Family: String, Sendable {
        case ipv4, ipv6
        var save: String { self == .ipv4 ? "iptables-save" : "ip6tables-save" }
        var restore: String { self == .ipv4 ? "iptables-restore" : "ip6tables-restore" }
    }

    /// The iptables-restore input that deletes the container's rules from `natTable`
    /// (iptables-save's output), then the chains left empty; nil when it has none.
    static func deletionScript(natTable: String, containerID: String) -> String? {
        let mark = "id: \\\"\(containerID)\\\""
        var ruleCount: [String: Int] = [:]
        var deletions: [String] = []
        var emptied: [String: Int] = [:]
        for line in natTable.split(separator: "\n") where line.hasPrefix("-A ") {
            let chain = String(line.dropFirst(3).prefix { $0 != " " })
            ruleCount[chain, default: 0] += 1
            if line.contains(mark) {
                deletions.append("-D " + line.dropFirst(3))
                emptied[chain, default: 0] += 1
            }
        }
        guard !deletions.isEmpty else { return nil }
        // Only the plugin's per-container chains, and only when nothing else is in them.
        let chains = emptied.filter { $0.key.hasPrefix("CNI-") && ruleCount[$0.key] == $0.value }.keys.sorted()
        return (["*nat"] + deletions + chains.map { "-X " + $0 } + ["COMMIT", ""]).joined(separator: "\n")
    }
}
