import Foundation
import Glibc
@testable import Libpod
import Testing

@Suite struct ConfigTests {
    @Test func defaultsKeepPodlinkApartFromPodman() throws {
        let config = try RuntimeConfig.defaults(uid: 0, environment: [:])
        #expect(config.staticDir == "/var/lib/podlink")
        #expect(config.tmpDir == "/run/podlink")
        #expect(config.stateType == .sqlite)
        #expect(config.runtimePath.first == "/usr/bin/crun")
        #expect(config.resolvedStorageRoot == "/var/lib/podlink/storage")
    }

    @Test func rootlessDefaultsFollowTheSeed() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let withXDG = try RuntimeConfig.defaults(uid: 1000, environment: ["HOME": scratch.root, "XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(withXDG.tmpDir == "/run/user/1000/podlink")
        #expect(withXDG.staticDir == scratch.root + "/.local/share/podlink")
        // A uid that owns neither /run/user/UID nor $TMPDIR/user/UID ends in $HOME/rundir.
        let fallback = try RuntimeConfig.defaults(uid: 4242, environment: ["HOME": scratch.root, "TMPDIR": scratch.root])
        #expect(fallback.tmpDir == scratch.root + "/rundir/podlink")
        #expect(throws: LibpodError.self) { try RuntimeConfig.defaults(uid: 4242, environment: [:]) }
    }

    @Test func fileOverridesDefaultsKeyByKey() throws {
        var config = RuntimeConfig()
        try ConfigFile.apply(
            text: """
                # a comment
                runtime_path = ["/opt/crun"]
                max_log_size = 1048576
                no_pivot_root = true
                cgroup_manager = "systemd"
                state_type = "memory"
                storage_driver = "vfs"
                label = false
                conmon_env_vars = ["PATH=/bin", "A=B"]
                """, file: "test.conf", to: &config)
        #expect(config.runtimePath == ["/opt/crun"])
        #expect(config.maxLogSize == 1_048_576)
        #expect(config.noPivotRoot)
        #expect(config.cgroupManager == .systemd)
        #expect(config.stateType == .memory)
        #expect(config.storageDriver == .vfs)
        #expect(!config.enableLabeling)
        #expect(config.conmonEnvVars == ["PATH=/bin", "A=B"])
        #expect(config.staticDir == RuntimeConfig().staticDir, "keys the file does not set keep their defaults")
    }

    @Test func everySeedKeyIsKnown() {
        let seedKeys = [
            "image_default_transport", "signature_policy_path", "runtime_path", "conmon_path", "conmon_env_vars",
            "cgroup_manager", "static_dir", "tmp_dir", "max_log_size", "no_pivot_root", "cni_config_dir",
            "cni_plugin_dir", "cni_default_network", "hooks_dir", "hooks_dir_not_exist_fatal", "namespace",
            "infra_image", "infra_command", "enable_port_reservation", "label",
        ]
        for key in seedKeys { #expect(ConfigKeys.byName[key] != nil, "\(key)") }
    }

    private func error(_ text: String) -> ConfigError? {
        var config = RuntimeConfig()
        do {
            try ConfigFile.apply(text: text, file: "/etc/containers/podlink.conf", to: &config)
            return nil
        } catch {
            guard case .config(let configError) = error else { return nil }
            return configError
        }
    }

    @Test func unknownKeyNamesFileLineAndKey() throws {
        let found = try #require(error("static_dir = \"/x\"\n\nruntime = \"crun\"\n"))
        #expect(found.line == 3)
        #expect(found.key == "runtime")
        #expect(found.description.hasPrefix("/etc/containers/podlink.conf:3: key 'runtime': unknown key"))
    }

    @Test func wrongTypesNameTheExpectedType() throws {
        let integer = try #require(error("max_log_size = \"big\""))
        #expect(integer.line == 1 && integer.key == "max_log_size")
        #expect(integer.message.contains("expected an integer, found a string"))
        let list = try #require(error("\nruntime_path = [\"/a\", 3]"))
        #expect(list.line == 2 && list.message.contains("element 1 must be a string"))
        let choice = try #require(error("state_type = \"bolt\""))
        #expect(choice.message.contains("expected \"sqlite\" or \"memory\", found \"bolt\""))
        let relative = try #require(error("tmp_dir = \"run/podlink\""))
        #expect(relative.message.contains("absolute path"))
        let table = try #require(error("[runtimes]\ncrun = [\"/usr/bin/crun\"]"))
        #expect(table.key == "runtimes" && table.line == 1)
    }

    @Test func badTOMLGivesLineAndColumn() throws {
        let found = try #require(error("static_dir = \"/x\"\nmax_log_size = = 3\n"))
        #expect(found.line == 2)
        #expect(found.column != nil)
        #expect(found.key == nil)
        #expect(found.description.contains("not valid TOML"))
    }

    @Test func explicitFileMustExist() {
        #expect(throws: LibpodError.self) {
            try ConfigFile.locate(.file("/nonexistent/podlink.conf"), uid: 0, environment: [:])
        }
    }

    @Test func rootlessFileLivesInHome() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        #expect(try ConfigFile.locate(.standard, uid: 1000, environment: ["HOME": scratch.root]) == nil)
        let path = scratch.write(".config/containers/podlink.conf", "max_log_size = 5\n")
        #expect(try ConfigFile.locate(.standard, uid: 1000, environment: ["HOME": scratch.root]) == path)
    }

    @Test func precedenceDefaultsThenFileThenOptions() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        let file = scratch.write(
            "podlink.conf", "static_dir = \"\(scratch.staticDir)\"\ntmp_dir = \"/nonexistent-overridden\"\nmax_log_size = 7\n")
        let runtime = try await Runtime.create(configFile: .file(file)) {
            $0.tmpDir = scratch.tmpDir
            $0.stateType = .memory
        }
        #expect(runtime.configFile == file)
        #expect(runtime.config.staticDir == scratch.staticDir, "from the file")
        #expect(runtime.config.tmpDir == scratch.tmpDir, "options win over the file")
        #expect(runtime.config.maxLogSize == 7)
        #expect(runtime.config.infraCommand == "/pause", "defaults where neither says")
        try await runtime.shutdown()
        scratch.remove()
    }
}
