import Foundation
import Glibc
@testable import Libpod
import PodlinkTestSupport
import Testing

/// The seed's libpod.conf keys that change what a container gets: each honoured, or
/// refused with what to do.
@Suite(.serialized) struct SeedKeyTests {
    @Test func hooksFromHooksDirRunAtTheirStagesForTheContainersTheyMatch() async throws {
        let hooks = ScratchDirectories()
        defer { hooks.remove() }
        let directory = hooks.root + "/hooks.d"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let marks = hooks.root + "/marks"
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        // The runtime hands a hook the container's state on stdin; this one keeps it.
        let script = hooks.root + "/hook.sh"
        try "#!/bin/sh\ncat > \(marks)/$1-$(date +%s%N)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        func hook(_ name: String, stage: String, when: String) throws {
            let text = #"{"version":"1.0.0","hook":{"path":"\#(script)","args":["hook.sh","\#(name)"]},"when":\#(when),"stages":["\#(stage)"]}"#
            try text.write(toFile: "\(directory)/\(name).json", atomically: true, encoding: .utf8)
        }
        try hook("always", stage: "prestart", when: #"{"always":true}"#)
        try hook("annotated", stage: "poststop", when: #"{"annotations":{"org\\.example\\.audit":"yes"}}"#)
        try hook("sleeper", stage: "prestart", when: #"{"commands":[".*/sleep$"]}"#)
        try await withContainerRuntime(.crun, configure: { config, _ in config.hooksDir = [directory] }) { runtime, _ in
            var audited = busybox(["/bin/true"], name: "audited")
            audited.annotations = ["org.example.audit": "yes"]
            try await runtime.createContainer(audited)
            try await runtime.startContainer("audited")
            _ = try await runtime.waitContainer("audited")
            try await runtime.removeContainer("audited")
            let names = try FileManager.default.contentsOfDirectory(atPath: marks).map { String($0.prefix { $0 != "-" }) }.sorted()
            #expect(names == ["always", "annotated"], "the sleeper hook matches no /bin/true; the poststop one ran on removal: \(names)")
            let state = try FileManager.default.contentsOfDirectory(atPath: marks).filter { $0.hasPrefix("always") }
                .map { try String(contentsOfFile: "\(marks)/\($0)", encoding: .utf8) }.first ?? ""
            #expect(state.contains(#""ociVersion""#) && state.contains(#""pid""#), "a hook gets the state on stdin: \(state)")
        }
    }

    @Test func hooksThatCannotBeUsedAreNamed() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let directory = scratch.root + "/hooks.d"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try #"{"version":"1.0.0","hook":{"path":"relative"},"when":{"always":true},"stages":["prestart"]}"#
            .write(toFile: directory + "/bad.json", atomically: true, encoding: .utf8)
        do {
            _ = try await Runtime.create(configFile: .none) {
                $0.staticDir = scratch.staticDir
                $0.tmpDir = scratch.tmpDir
                $0.hooksDir = [directory]
            }
            Issue.record("a hook with a relative path was accepted")
        } catch {
            #expect(error.description.contains("bad.json") && error.description.contains("absolute"), "\(error)")
        }
        do {
            _ = try await Runtime.create(configFile: .none) {
                $0.staticDir = scratch.staticDir
                $0.tmpDir = scratch.tmpDir
                $0.hooksDir = [scratch.root + "/missing"]
                $0.hooksDirNotExistFatal = true
            }
            Issue.record("a missing hooks_dir was accepted with hooks_dir_not_exist_fatal")
        } catch {
            #expect(error.description.contains("hooks_dir_not_exist_fatal"), "\(error)")
        }
    }

    @Test func defaultMountsLogLimitsAndNoPivotRootReachTheContainer() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let secrets = scratch.root + "/secrets"
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        try "s3cret\n".write(toFile: secrets + "/token", atomically: true, encoding: .utf8)
        let mountsFile = scratch.root + "/mounts.conf"
        try "# secrets for every container\n\(secrets):/run/secrets\n/nonexistent/skipped:/skipped\n"
            .write(toFile: mountsFile, atomically: true, encoding: .utf8)
        try await withContainerRuntime(.crun, configure: { config, _ in
            config.defaultMountsFile = mountsFile
            config.maxLogSize = 4096
            config.noPivotRoot = true
        }) { runtime, _ in
            try await runtime.createContainer(busybox(["/bin/sh", "-c", """
                cat /run/secrets/token; if touch /run/secrets/x 2>/dev/null; then echo writable; else echo read-only; fi
                i=0; while [ $i -lt 2000 ]; do echo "line $i of output that fills the log"; i=$((i+1)); done
                """], name: "seeded"))
            try await runtime.startContainer("seeded")
            #expect(try await runtime.waitContainer("seeded") == 0)
            let log = try await runtime.inspectContainer("seeded").logPath
            let size = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? -1
            #expect(size <= 4096 + 512, "max_log_size bounds the log: \(size) bytes")
            let spec = try String(contentsOfFile: try await runtime.inspectContainer("seeded").bundlePath + "/config.json", encoding: .utf8)
            #expect(spec.contains("/run/secrets") && !spec.contains("/skipped"))
        }
        // Before the log filled, the mount was there and read-only.
        try await withContainerRuntime(.crun, configure: { config, _ in config.defaultMountsFile = mountsFile }) { runtime, _ in
            try await runtime.createContainer(busybox(["/bin/sh", "-c", "cat /run/secrets/token; touch /run/secrets/x 2>/dev/null || echo read-only"], name: "secret"))
            try await runtime.startContainer("secret")
            #expect(try await runtime.waitContainer("secret") == 0)
            let lines = try await collect(runtime.containerLogs("secret")).map(\.text)
            #expect(lines == ["s3cret", "read-only"], "\(lines)")
        }
    }

    @Test func keysThisMachineCannotHonourAreRefusedWithWhatToDo() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        for (change, key) in [
            ({ (config: inout RuntimeConfig) in config.cgroupManager = .systemd }, "cgroup_manager"),
            ({ (config: inout RuntimeConfig) in config.imageDefaultTransport = "oci:" }, "image_default_transport"),
            ({ (config: inout RuntimeConfig) in config.defaultMountsFile = "/nonexistent/mounts.conf" }, "default_mounts_file"),
        ] {
            do {
                _ = try await Runtime.create(configFile: .none) {
                    $0.staticDir = scratch.staticDir
                    $0.tmpDir = scratch.tmpDir
                    change(&$0)
                }
                Issue.record("\(key) was accepted")
            } catch {
                #expect(error.description.contains(key), "\(error)")
            }
        }
    }

    @Test func theNoneLogDriverKeepsNothingAndSaysSo() async throws {
        try await withContainerRuntime(.crun) { runtime, _ in
            var options = busybox(["/bin/sh", "-c", "echo gone"], name: "quiet")
            options.log.driver = .none
            try await runtime.createContainer(options)
            try await runtime.startContainer("quiet")
            #expect(try await runtime.waitContainer("quiet") == 0)
            do {
                _ = try await runtime.containerLogs("quiet")
                Issue.record("logs of a container without logs were read")
            } catch {
                #expect("\(error)".contains("none log driver"), "\(error)")
            }
            let log = try await runtime.inspectContainer("quiet").logPath
            #expect(!FileManager.default.fileExists(atPath: log), "nothing was written to \(log)")
        }
    }
}
