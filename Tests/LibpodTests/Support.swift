import Foundation
import Glibc
import Libpod
import PodlinkTestSupport
import Testing

/// A fresh static_dir and tmp_dir for one test, removed afterwards.
struct ScratchDirectories {
    let root: String
    var staticDir: String { root + "/static" }
    var tmpDir: String { root + "/tmp" }

    init() {
        mkdir("/tmp/podlink-tests", 0o755)
        var template = Array("/tmp/podlink-tests/libpod-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ relativePath: String, _ text: String) -> String {
        let path = root + "/" + relativePath
        try? FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
}

enum LibpodTestEnvironment {
    /// Making a runtime needs an OCI runtime and conmon on the machine.
    static let hasRuntimeBinaries: Bool = {
        (Environment.executable("crun") != nil || Environment.executable("runc") != nil)
            && Environment.executable("conmon") != nil
    }()

    static func requireRuntime() -> Bool {
        Environment.require(hasRuntimeBinaries, "an OCI runtime (crun or runc) and conmon")
    }
}

/// Runs `body` with a runtime on scratch directories, shut down and removed afterwards.
func withRuntime<T>(
    _ directories: ScratchDirectories = ScratchDirectories(),
    stateType: StateStoreKind = .sqlite,
    namespace: String = "",
    _ body: (Runtime) async throws -> T
) async throws -> T {
    let runtime = try await Runtime.create(configFile: .none) {
        $0.staticDir = directories.staticDir
        $0.tmpDir = directories.tmpDir
        $0.stateType = stateType
        $0.namespace = namespace
    }
    do {
        let result = try await body(runtime)
        try? await runtime.shutdown()
        directories.remove()
        return result
    } catch {
        try? await runtime.shutdown()
        directories.remove()
        throw error
    }
}

let helperPath = Environment.builtProduct("libpod-test-helper")
