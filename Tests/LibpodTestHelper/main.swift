import Glibc
import Libpod

// A second process for the Libpod tests: what must hold across processes (locks,
// refresh, state) is checked by running this beside the test process.
//
//   libpod-test-helper create-runtime STATIC TMP
//   libpod-test-helper increment STATIC TMP ID COUNT
//   libpod-test-helper hold-lock STATIC TMP ID

func runtime(_ staticDir: String, _ tmpDir: String) async throws -> Runtime {
    try await Runtime.create(configFile: .none) {
        $0.staticDir = staticDir
        $0.tmpDir = tmpDir
    }
}

let arguments = CommandLine.arguments
do {
    switch arguments.count > 1 ? arguments[1] : "" {
    case "create-runtime" where arguments.count == 4:
        let made = try await runtime(arguments[2], arguments[3])
        print("refreshed=\(made.didRefresh)")
        try await made.shutdown()
    case "increment" where arguments.count == 6:
        let made = try await runtime(arguments[2], arguments[3])
        for _ in 0..<Int(arguments[5])! {
            try await made.updateContainer(arguments[4]) { $0.state.restartCount += 1 }
        }
        try await made.shutdown()
    case "hold-lock" where arguments.count == 5:
        // Takes a container's lock and keeps it until killed.
        let made = try await runtime(arguments[2], arguments[3])
        let lock = try await made.locks.containerLock(arguments[4])
        print("holding")
        try await Task.sleep(for: .seconds(3600))
        lock.release()
    default:
        print("usage: libpod-test-helper create-runtime STATIC TMP | increment STATIC TMP ID COUNT | hold-lock STATIC TMP ID")
        exit(2)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
