import Foundation
import Logging

/// podman's refresh: after a reboot nothing runs and nothing exists in the OCI runtime,
/// so the state must stop saying otherwise. Detected by the `alive` file in tmp_dir
/// (gone after a reboot when tmp_dir is a tmpfs) and by the boot ID it holds (for a
/// tmp_dir that survives reboots). Done under `alive.lck`, so of several processes
/// creating a runtime at once exactly one refreshes.
enum RebootRefresh {
    static let bootIDPath = "/proc/sys/kernel/random/boot_id"

    static func currentBootID() throws(LibpodError) -> String {
        guard let text = try FileSystem.readString(bootIDPath) else { throw .unsupported(feature: "a kernel without \(bootIDPath)", advice: "Podlink tells reboots apart by the boot ID; mount /proc") }
        return text.filter { !$0.isWhitespace }
    }

    /// Returns whether it refreshed.
    static func runIfNeeded(paths: RuntimePaths, state: any StateStore, events: EventLog, logger: Logger) async throws(LibpodError) -> Bool {
        let lock = try await FileLock.acquire(path: paths.aliveLock)
        defer { lock.release() }
        let bootID = try currentBootID()
        let recorded = try FileSystem.readString(paths.aliveFile)?.filter { !$0.isWhitespace }
        guard recorded != bootID else { return false }

        let containers = try await state.resetForReboot()
        // Whatever conmon and the runtime left for the last boot is meaningless now.
        for container in containers {
            try FileSystem.removeFile("\(paths.exitsDir)/\(container.id)")
            try FileSystem.removeTree("\(paths.socketDir)/\(container.id)")
            try FileSystem.removeTree("\(paths.containersRunDir)/\(container.id)")
        }
        for directory in paths.perBootDirectories { try FileSystem.ensureDirectory(directory, mode: 0o700) }
        try FileSystem.writeAtomically(paths.aliveFile, Array((bootID + "\n").utf8), durable: true)
        do {
            try events.append(Event(type: .system, status: "refresh", attributes: ["containers": String(containers.count)]))
        } catch {
            logger.warning("could not record the refresh event", metadata: ["error": "\(error)"])
        }
        return true
    }
}
