import Glibc

/// System calls glibc has but the Glibc module does not export (they need _GNU_SOURCE),
/// looked up once.
enum LinuxCalls {
    typealias Unshare = @convention(c) (Int32) -> Int32
    typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let unshare: Unshare? = symbol("unshare")
    static let setns: SetNamespace? = symbol("setns")
    /// A pipe made close-on-exec atomically: no child spawned meanwhile inherits it.
    static let pipe2: Pipe2? = symbol("pipe2")

    private static func symbol<T>(_ name: String) -> T? {
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }
}
