import Foundation
import Glibc

/// Test images made on the spot from Debian's statically linked busybox: no registry,
/// no network.
public enum TestImages {
    public static let busybox = "/bin/busybox"
    /// The applets the tests run; each is a symlink to /bin/busybox in the root filesystem.
    public static let applets = [
        "sh", "true", "false", "sleep", "echo", "cat", "ls", "ps", "top", "env", "id", "mkdir", "rm", "touch", "hostname", "grep",
        "pwd", "wc", "printf", "test", "seq", "wget", "httpd", "ip", "nc", "nslookup", "sha256sum", "stty", "kill", "stat", "ln", "readlink",
    ]

    /// A root filesystem directory `<dir>/<name>`: /bin/busybox with its applet links, the
    /// usual empty directories, and /etc/passwd and /etc/group for root and nobody.
    public static func busyboxRootfs(in dir: String, name: String = "busybox-rootfs") throws -> String {
        let root = dir + "/" + name
        let files = FileManager.default
        try? files.removeItem(atPath: root)
        for directory in ["bin", "etc", "dev", "proc", "sys", "tmp", "root", "run", "var/tmp"] {
            try files.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        chmod(root + "/tmp", 0o1777)
        try files.copyItem(atPath: busybox, toPath: root + "/bin/busybox")
        chmod(root + "/bin/busybox", 0o755)
        for applet in applets {
            try files.createSymbolicLink(atPath: root + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
            .write(toFile: root + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\nnogroup:x:65534:\n".write(toFile: root + "/etc/group", atomically: false, encoding: .utf8)
        return root
    }

    /// The busybox root filesystem packed by /bin/tar into `<dir>/busybox-rootfs.tar` or
    /// `.tar.gz`; returns the tarball's path.
    public static func busyboxRootfsTarball(in dir: String, gzip: Bool) async throws -> String {
        let suffix = gzip ? "tar.gz" : "tar"
        let root = try busyboxRootfs(in: dir, name: "busybox-rootfs-\(suffix)")
        let tarball = "\(dir)/busybox-rootfs.\(suffix)"
        let result = try await Tool.run(["/bin/tar", gzip ? "-czf" : "-cf", tarball, "--numeric-owner", "-C", root, "."])
        guard result.status == 0 else { throw TestFailure("packing the busybox root filesystem failed: \(result)") }
        try? FileManager.default.removeItem(atPath: root)
        return tarball
    }

    /// A few-hundred-byte image: /etc/passwd, /etc/group and a script, for tests that need
    /// an image but never run it (or have no room for busybox); `padding` adds a file of
    /// that many random bytes.
    public static func tinyRootfsTarball(in dir: String, name: String = "tiny", padding: Int = 0) async throws -> String {
        let root = dir + "/\(name)-rootfs"
        let files = FileManager.default
        try? files.removeItem(atPath: root)
        try files.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root:x:0:0:root:/root:/true\n".write(toFile: root + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\n".write(toFile: root + "/etc/group", atomically: false, encoding: .utf8)
        try "#!/true\n".write(toFile: root + "/true", atomically: false, encoding: .utf8)
        chmod(root + "/true", 0o755)
        if padding > 0 {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<padding / 8).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
            try Data(bytes).write(to: URL(fileURLWithPath: root + "/padding"))
        }
        let tarball = dir + "/\(name)-rootfs.tar"
        let result = try await Tool.run(["/bin/tar", "-cf", tarball, "--numeric-owner", "-C", root, "."])
        guard result.status == 0 else { throw TestFailure("packing the tiny root filesystem failed: \(result)") }
        try? files.removeItem(atPath: root)
        return tarball
    }
}
