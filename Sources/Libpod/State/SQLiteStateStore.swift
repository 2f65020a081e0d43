import Foundation
import GRDB
import Glibc
import Synchronization

/// The state in a SQLite database (WAL, so readers never wait for a writer), shared by
/// every process that opens the same runtime. Config is written once as JSON; the
/// runtime state is plain columns, so listing a thousand containers decodes no JSON
/// but the configs this process has not seen yet.
public final class SQLiteStateStore: StateStore {
    public static let schemaVersion = 3

    public let namespace: String
    public let path: String
    private let pool: DatabasePool
    /// Configs never change after creation, so each is decoded once per process.
    private let configCache = Mutex(ConfigCache())
    private let closed = Atomic<Bool>(false)

    /// The paths a database was made for; opening it with others is refused, because the
    /// containers it lists would point at files that are not there (podman's ValidateDBConfig).
    public struct Paths: Sendable, Equatable {
        public var staticDir: String
        public var tmpDir: String
        public var storageRoot: String
        public var storageDriver: String

        public init(staticDir: String, tmpDir: String, storageRoot: String, storageDriver: String) {
            self.staticDir = staticDir
            self.tmpDir = tmpDir
            self.storageRoot = storageRoot
            self.storageDriver = storageDriver
        }
    }

    public init(path: String, namespace: String = "", paths: Paths) throws(LibpodError) {
        self.namespace = namespace
        self.path = path
        var configuration = Configuration()
        // Another process may hold the write lock for a moment; wait rather than fail.
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL is durable against a crashed or killed process,
            // which is what a container engine must survive; full fsync per commit would
            // cost several milliseconds on every container transition.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // Two processes opening a new database at once must not both migrate it, nor both
        // switch it to WAL: SQLite answers that race with SQLITE_BUSY at once, without
        // waiting through the busy timeout.
        let lock = try FileLock.acquireBlocking(path: path + ".lock")
        defer { lock.release() }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw .stateDatabase(path: path, operation: "opening", cause: "\(error)")
        }
        do {
            try Self.migrator.migrate(pool)
            try pool.write { db in try Self.check(paths: paths, in: db, path: path) }
        } catch let error as LibpodError {
            try? pool.close()
            throw error
        } catch {
            try? pool.close()
            throw .stateDatabase(path: path, operation: "preparing", cause: "\(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dbConfig (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        schemaVersion INTEGER NOT NULL,
                        staticDir TEXT NOT NULL, tmpDir TEXT NOT NULL,
                        storageRoot TEXT NOT NULL, storageDriver TEXT NOT NULL);
                    CREATE TABLE containers (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        namespace TEXT NOT NULL,
                        podID TEXT,
                        config BLOB NOT NULL);
                    CREATE INDEX containersByNamespace ON containers(namespace);
                    CREATE TABLE containerState (
                        id TEXT PRIMARY KEY NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
                        status INTEGER NOT NULL,
                        pid INTEGER NOT NULL DEFAULT 0,
                        conmonPID INTEGER NOT NULL DEFAULT 0,
                        exitCode INTEGER NOT NULL DEFAULT 0,
                        oomKilled INTEGER NOT NULL DEFAULT 0,
                        startedAt REAL, finishedAt REAL,
                        mountPoint TEXT NOT NULL DEFAULT '',
                        restartCount INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE pods (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        namespace TEXT NOT NULL,
                        config BLOB NOT NULL);
                    CREATE TABLE volumes (
                        name TEXT PRIMARY KEY NOT NULL,
                        config BLOB NOT NULL);
                    """)
        }
        // v2: exit codes outlive their containers for a while (podman's exit code table).
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE removedExitCodes (
                        id TEXT PRIMARY KEY NOT NULL,
                        exitCode INTEGER NOT NULL,
                        removedAt REAL NOT NULL);
                    """)
        }
        // v3: whether the last stop was asked for (restart policies leave such a container be).
        migrator.registerMigration("v3") { db in
            try db.execute(sql: "ALTER TABLE containerState ADD COLUMN stoppedByUser INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }

    private static func check(paths: Paths, in db: Database, path: String) throws {
        let row = try Row.fetchOne(db, sql: "SELECT * FROM dbConfig WHERE id = 1")
        guard let row else {
            try db.execute(
                sql: "INSERT INTO dbConfig VALUES (1, ?, ?, ?, ?, ?)",
                arguments: [schemaVersion, paths.staticDir, paths.tmpDir, paths.storageRoot, paths.storageDriver])
            return
        }
        let stored = Paths(
            staticDir: row["staticDir"], tmpDir: row["tmpDir"], storageRoot: row["storageRoot"],
            storageDriver: row["storageDriver"])
        let version: Int = row["schemaVersion"]
        guard version <= schemaVersion else {
            throw LibpodError.damaged(what: "the state database \(path) has schema \(version), newer than this Podlink's \(schemaVersion)", advice: "upgrade Podlink")
        }
        if version < schemaVersion {
            try db.execute(sql: "UPDATE dbConfig SET schemaVersion = ? WHERE id = 1", arguments: [schemaVersion])
        }
        for (key, mine, theirs) in [
            ("static_dir", paths.staticDir, stored.staticDir), ("tmp_dir", paths.tmpDir, stored.tmpDir),
            ("storage_root", paths.storageRoot, stored.storageRoot),
            ("storage_driver", paths.storageDriver, stored.storageDriver),
        ] where mine != theirs {
            throw LibpodError.config(ConfigError(
                file: path, key: key,
                message: "the state database was created with \(key) \"\(theirs)\" but the configuration says \"\(mine)\"; "
                    + "set \(key) back, or use another static_dir for a separate state"))
        }
    }

    // MARK: - StateStore

    private var namespaceClause: String { namespace.isEmpty ? "" : " AND c.namespace = ?" }
    private var namespaceArguments: StatementArguments { namespace.isEmpty ? [] : [namespace] }

    private func read<T>(_ body: (Database) throws -> T) throws(LibpodError) -> T {
        guard !closed.load(ordering: .relaxed) else { throw .runtimeStopped }
        do {
            return try pool.unsafeRead(body)
        } catch let error as LibpodError {
            throw error
        } catch {
            throw .stateDatabase(path: path, operation: "reading", cause: "\(error)")
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(LibpodError) -> T {
        guard !closed.load(ordering: .relaxed) else { throw .runtimeStopped }
        do {
            return try await pool.write(body)
        } catch let error as LibpodError {
            throw error
        } catch {
            throw .stateDatabase(path: path, operation: "writing", cause: "\(error)")
        }
    }

    public func add(_ container: Container) async throws(LibpodError) {
        let encoded: Data
        do {
            encoded = try JSONEncoder().encode(container.config)
        } catch {
            throw .encoding(what: "the config of container \(container.id)", cause: "\(error)")
        }
        let state = container.state
        let config = container.config
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM containers WHERE name = ? UNION SELECT 1 FROM pods WHERE name = ?",
                arguments: [config.name, config.name]) == true
            {
                throw LibpodError.nameInUse(config.name)
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM containers WHERE id = ? UNION SELECT 1 FROM pods WHERE id = ?",
                arguments: [config.id, config.id]) == true
            {
                throw LibpodError.invalidArgument("container ID \(config.id) is already in use")
            }
            try db.execute(
                sql: "INSERT INTO containers (id, name, namespace, podID, config) VALUES (?, ?, ?, ?, ?)",
                arguments: [config.id, config.name, config.namespace, config.podID, encoded])
            try Self.insertOrReplace(state, id: config.id, in: db)
        }
        configCache.withLock { $0.configs[config.id] = config }
    }

    private static func insertOrReplace(_ state: ContainerState, id: String, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO containerState
                (id, status, pid, conmonPID, exitCode, oomKilled, startedAt, finishedAt, mountPoint, restartCount, stoppedByUser)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, state.status.code, state.pid, state.conmonPID, state.exitCode, state.oomKilled,
                state.startedAt?.timeIntervalSince1970, state.finishedAt?.timeIntervalSince1970, state.mountPoint,
                state.restartCount, state.stoppedByUser,
            ])
    }

    private static let selectColumns = """
        SELECT c.id, c.config, s.status, s.pid, s.conmonPID, s.exitCode, s.oomKilled, s.startedAt, s.finishedAt,
               s.mountPoint, s.restartCount, s.stoppedByUser
        FROM containers c JOIN containerState s ON s.id = c.id
        """

    /// Decoded configs by container ID, and a count of the removals that have finished.
    ///
    /// A read may see the row of a container whose removal commits while it decodes (its
    /// statement began first); caching that config would keep it after the removal has
    /// cleared the entry, for as long as the process runs. So a read notes the count before
    /// it begins (`removalsBefore`), and caches what it decoded only when no removal has
    /// finished since.
    private struct ConfigCache {
        var configs: [String: ContainerConfig] = [:]
        var removals: UInt64 = 0
    }

    private var removalsSoFar: UInt64 { configCache.withLock { $0.removals } }

    /// How many configs are cached (the tests hold it to the containers that exist).
    var cachedConfigCount: Int { configCache.withLock { $0.configs.count } }

    /// A container from `selectColumns`' columns, starting at column `offset` of `row`,
    /// read by a statement that began after `removalsBefore` removals had finished.
    private func container(from row: Row, offset: Int = 0, removalsBefore: UInt64) throws -> Container {
        let id: String = row[offset]
        var config = configCache.withLock { $0.configs[id] }
        if config == nil {
            let data: Data = row[offset + 1]
            let decoded = try JSONDecoder().decode(ContainerConfig.self, from: data)
            configCache.withLock { cache in
                if cache.removals == removalsBefore { cache.configs[id] = decoded }
            }
            config = decoded
        }
        var state = ContainerState()
        state.status = ContainerStatus(code: row[offset + 2])
        state.pid = row[offset + 3]
        state.conmonPID = row[offset + 4]
        state.exitCode = row[offset + 5]
        state.oomKilled = row[offset + 6]
        state.startedAt = (row[offset + 7] as Double?).map(Date.init(timeIntervalSince1970:))
        state.finishedAt = (row[offset + 8] as Double?).map(Date.init(timeIntervalSince1970:))
        state.mountPoint = row[offset + 9]
        state.restartCount = row[offset + 10]
        state.stoppedByUser = row[offset + 11]
        return Container(config: config!, state: state)
    }

    public func container(id: String) async throws(LibpodError) -> Container {
        let removals = removalsSoFar
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: Self.selectColumns + " WHERE c.id = ?" + namespaceClause,
                arguments: [id] + namespaceArguments)
            else { throw LibpodError.containerNotFound(id) }
            return try container(from: row, removalsBefore: removals)
        }
    }

    public func lookupID(_ idOrName: String) async throws(LibpodError) -> String {
        try read { db in try resolve(idOrName, in: db) }
    }

    public func lookup(_ idOrName: String) async throws(LibpodError) -> Container {
        // One statement finds the exact ID, the name and up to a few prefix matches, each
        // by an index, with their rows: lookups are the daemon's most frequent query.
        let clause = namespaceClause
        let sql = """
            SELECT m.rank, c.id, c.config, s.status, s.pid, s.conmonPID, s.exitCode, s.oomKilled, s.startedAt,
                   s.finishedAt, s.mountPoint, s.restartCount, s.stoppedByUser
            FROM (
                SELECT 0 AS rank, c.id FROM containers c WHERE c.id = ?1\(clause.isEmpty ? "" : " AND c.namespace = ?3")
                UNION ALL SELECT 1, c.id FROM containers c WHERE c.name = ?1\(clause.isEmpty ? "" : " AND c.namespace = ?3")
                UNION ALL SELECT * FROM (SELECT 2, c.id FROM containers c WHERE c.id >= ?1 AND c.id < ?2\(clause.isEmpty ? "" : " AND c.namespace = ?3") LIMIT 6)
            ) m
            JOIN containers c ON c.id = m.id JOIN containerState s ON s.id = m.id ORDER BY m.rank
            """
        let upper = ContainerNaming.isIDPrefix(idOrName) ? idOrName + "g" : idOrName
        let removals = removalsSoFar
        return try read { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [idOrName, upper] + namespaceArguments)
            guard let first = rows.first else { throw LibpodError.containerNotFound(idOrName) }
            let rank: Int = first["rank"]
            if rank < 2 || rows.count == 1 { return try container(from: first, offset: 1, removalsBefore: removals) }
            throw LibpodError.ambiguousContainerID(prefix: idOrName, matches: rows.map { $0["id"] as String })
        }
    }

    /// podman's order: full ID, then name, then unique ID prefix; each an indexed query.
    private func resolve(_ idOrName: String, in db: Database) throws -> String {
        let clause = namespaceClause
        let scope = namespaceArguments
        if ContainerNaming.isFullID(idOrName),
            try String.fetchOne(db.cachedStatement(sql: "SELECT c.id FROM containers c WHERE c.id = ?" + clause), arguments: [idOrName] + scope) != nil
        {
            return idOrName
        }
        if let id = try String.fetchOne(db.cachedStatement(sql: "SELECT c.id FROM containers c WHERE c.name = ?" + clause), arguments: [idOrName] + scope) {
            return id
        }
        guard ContainerNaming.isIDPrefix(idOrName) else { throw LibpodError.containerNotFound(idOrName) }
        // IDs are lowercase hex, so a range scan on the primary key finds the prefix.
        let matches = try String.fetchAll(
            db.cachedStatement(sql: "SELECT c.id FROM containers c WHERE c.id >= ? AND c.id < ?" + clause + " LIMIT 6"),
            arguments: [idOrName, idOrName + "g"] + scope)
        switch matches.count {
        case 0: throw LibpodError.containerNotFound(idOrName)
        case 1: return matches[0]
        default: throw LibpodError.ambiguousContainerID(prefix: idOrName, matches: matches)
        }
    }

    public func containers() async throws(LibpodError) -> [Container] {
        let removals = removalsSoFar
        return try read { db in
            let rows = try Row.fetchCursor(db, sql: Self.selectColumns + " WHERE 1" + namespaceClause + " ORDER BY c.rowid",
                arguments: namespaceArguments)
            var result: [Container] = []
            while let row = try rows.next() { result.append(try container(from: row, removalsBefore: removals)) }
            return result
        }
    }

    public func save(_ state: ContainerState, id: String) async throws(LibpodError) {
        let clause = namespaceClause
        let arguments = namespaceArguments
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM containers c WHERE c.id = ?" + clause, arguments: [id] + arguments) == true else {
                throw LibpodError.containerNotFound(id)
            }
            try Self.insertOrReplace(state, id: id, in: db)
        }
    }

    public func remove(id: String, exitCode: Int32?) async throws(LibpodError) {
        let clause = namespaceClause
        let arguments = namespaceArguments
        try await write { db in
            try db.execute(sql: "DELETE FROM containers WHERE id IN (SELECT c.id FROM containers c WHERE c.id = ?" + clause + ")",
                arguments: [id] + arguments)
            guard db.changesCount == 1 else { throw LibpodError.containerNotFound(id) }
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "DELETE FROM removedExitCodes WHERE removedAt < ?", arguments: [now - exitCodeRetention])
            if let exitCode {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO removedExitCodes VALUES (?, ?, ?)", arguments: [id, exitCode, now])
            }
        }
        configCache.withLock { cache in
            cache.configs[id] = nil
            cache.removals += 1
        }
    }

    public func exitCode(ofRemoved id: String) async throws(LibpodError) -> Int32? {
        try read { db in
            try Int32.fetchOne(
                db, sql: "SELECT exitCode FROM removedExitCodes WHERE id = ? AND removedAt >= ?",
                arguments: [id, Date().timeIntervalSince1970 - exitCodeRetention])
        }
    }

    public func nameInUse(_ name: String) async throws(LibpodError) -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM containers WHERE name = ? UNION SELECT 1 FROM pods WHERE name = ?",
                arguments: [name, name]) == true
        }
    }

    // MARK: - Pods

    public func addPod(_ pod: Pod) async throws(LibpodError) {
        let encoded = try Self.encode(pod)
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM containers WHERE name = ? UNION SELECT 1 FROM pods WHERE name = ?",
                arguments: [pod.name, pod.name]) == true
            {
                throw LibpodError.nameInUse(pod.name)
            }
            try db.execute(sql: "INSERT INTO pods (id, name, namespace, config) VALUES (?, ?, ?, ?)", arguments: [pod.id, pod.name, pod.namespace, encoded])
        }
    }

    public func updatePod(_ pod: Pod) async throws(LibpodError) {
        let encoded = try Self.encode(pod)
        try await write { db in
            try db.execute(sql: "UPDATE pods SET config = ? WHERE id = ?", arguments: [encoded, pod.id])
            guard db.changesCount > 0 else { throw LibpodError.podNotFound(pod.id) }
        }
    }

    public func lookupPod(_ idOrName: String) async throws(LibpodError) -> Pod {
        let clause = namespace.isEmpty ? "" : " AND namespace = ?"
        let scope = namespaceArguments
        let rows = try read { db in
            if let exact = try Row.fetchOne(db, sql: "SELECT id, config FROM pods WHERE (id = ? OR name = ?)" + clause + " ORDER BY id = ? DESC",
                arguments: [idOrName, idOrName] + scope + [idOrName])
            {
                return [exact]
            }
            guard ContainerNaming.isIDPrefix(idOrName) else { return [] }
            return try Row.fetchAll(db, sql: "SELECT id, config FROM pods WHERE id >= ? AND id < ?" + clause + " LIMIT 6",
                arguments: [idOrName, idOrName + "g"] + scope)
        }
        guard rows.count == 1, let row = rows.first else {
            if rows.isEmpty { throw .podNotFound(idOrName) }
            throw .invalidArgument("ID prefix \"\(idOrName)\" matches \(rows.count) pods; give more of the ID")
        }
        return try Self.decodePod(row["config"], id: row["id"])
    }

    public func pods() async throws(LibpodError) -> [Pod] {
        let clause = namespace.isEmpty ? "" : " WHERE namespace = ?"
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT id, config FROM pods" + clause + " ORDER BY rowid", arguments: namespaceArguments) }
        var result: [Pod] = []
        for row in rows { result.append(try Self.decodePod(row["config"], id: row["id"])) }
        return result
    }

    public func removePod(id: String) async throws(LibpodError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM pods WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { throw LibpodError.podNotFound(id) }
        }
    }

    private static func encode(_ pod: Pod) throws(LibpodError) -> Data {
        do {
            return try recordEncoder.encode(pod)
        } catch {
            throw .encoding(what: "pod \(pod.id)", cause: "\(error)")
        }
    }

    private static func decodePod(_ data: Data, id: String) throws(LibpodError) -> Pod {
        try decodeRecord(Pod.self, data, what: "pod \(id)")
    }

    // MARK: - Volumes

    public func addVolume(_ volume: Volume) async throws(LibpodError) {
        let encoded: Data
        do {
            encoded = try Self.recordEncoder.encode(volume)
        } catch {
            throw .encoding(what: "volume \(volume.name)", cause: "\(error)")
        }
        let name = volume.name
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM volumes WHERE name = ?", arguments: [name]) != true else {
                throw LibpodError.volumeExists(name)
            }
            try db.execute(sql: "INSERT INTO volumes (name, config) VALUES (?, ?)", arguments: [name, encoded])
        }
    }

    public func volume(named name: String) async throws(LibpodError) -> Volume {
        let data = try read { db in try Data.fetchOne(db, sql: "SELECT config FROM volumes WHERE name = ?", arguments: [name]) }
        guard let data else { throw .volumeNotFound(name) }
        return try Self.decodeVolume(data, name: name)
    }

    public func volumes() async throws(LibpodError) -> [Volume] {
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT name, config FROM volumes ORDER BY rowid") }
        var result: [Volume] = []
        for row in rows { result.append(try Self.decodeVolume(row["config"], name: row["name"])) }
        return result
    }

    public func removeVolume(named name: String) async throws(LibpodError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM volumes WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { throw LibpodError.volumeNotFound(name) }
        }
    }

    /// Volumes' and pods' records: JSON with ISO 8601 dates.
    private static var recordEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    private static func decodeVolume(_ data: Data, name: String) throws(LibpodError) -> Volume {
        try decodeRecord(Volume.self, data, what: "volume \(name)")
    }

    private static func decodeRecord<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws(LibpodError) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw .damaged(what: "the record of \(what) in the state database: \(error)", advice: "remove its row, or reset the state")
        }
    }

    public func resetForReboot() async throws(LibpodError) -> [Container] {
        // One statement per rule, all in one transaction: a thousand containers cost
        // three updates, not a thousand.
        try await write { db in
            func codes(_ statuses: [ContainerStatus]) -> String { statuses.map { String($0.code) }.joined(separator: ",") }
            try db.execute(sql: """
                UPDATE containerState SET status = \(ContainerStatus.exited.code)
                WHERE status IN (\(codes([.running, .paused, .stopped, .stopping, .exited])));
                UPDATE containerState SET status = \(ContainerStatus.configured.code)
                WHERE status IN (\(codes([.configured, .created, .unknown])));
                UPDATE containerState SET pid = 0, conmonPID = 0, mountPoint = '';
                """)
        }
        // Refresh concerns every namespace, so every container comes back.
        let removals = removalsSoFar
        return try read { db in
            try Row.fetchAll(db, sql: Self.selectColumns + " ORDER BY c.rowid").map { try container(from: $0, removalsBefore: removals) }
        }
    }

    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        try? pool.close()
    }
}
