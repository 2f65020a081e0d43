import Foundation
import Glibc
@testable import Libpod
import Testing

@Suite struct DiscoveryTests {
    @Test func errorListsEveryPathAndWhy() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let directory = scratch.root + "/runc"
        mkdir(directory, 0o755)
        let notExecutable = scratch.write("crun", "#!/bin/sh\n")
        do {
            _ = try ExecutableDiscovery.ociRuntime(paths: ["/nonexistent/crun", directory, notExecutable])
            Issue.record("expected an error")
        } catch {
            let text = error.description
            #expect(text.contains("no usable OCI runtime found"))
            #expect(text.contains("/nonexistent/crun (not found)"))
            #expect(text.contains("\(directory) (is a directory)"))
            #expect(text.contains("\(notExecutable) (not executable)"))
            #expect(text.contains("install crun or runc"))
        }
        #expect(throws: LibpodError.self) { try ExecutableDiscovery.conmon(paths: []) }
    }

    @Test func firstUsablePathWins() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let runc = scratch.write("bin/runc", "#!/bin/sh\n")
        chmod(runc, 0o755)
        let found = try ExecutableDiscovery.ociRuntime(paths: ["/nonexistent/crun", runc, "/usr/bin/crun"])
        #expect(found == DiscoveredExecutable(path: runc, name: "runc"))
    }

    @Test func crunInHybridModeIsInstalledButUnusable() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let crun = scratch.write("bin/crun", "#!/bin/sh\n")
        let runc = scratch.write("bin/runc", "#!/bin/sh\n")
        chmod(crun, 0o755)
        chmod(runc, 0o755)
        let hybrid = CgroupLayout(version: .hybrid, hybridV2Controllers: ["hugetlb"])
        #expect(try ExecutableDiscovery.ociRuntime(paths: [crun, runc], cgroups: hybrid).name == "runc")
        do {
            _ = try ExecutableDiscovery.ociRuntime(paths: [crun], cgroups: hybrid)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("installed but unusable"))
            #expect(error.description.contains("mount -t cgroup -o hugetlb"))
        }
        let fixed = CgroupLayout(version: .hybrid, hybridV2Controllers: [])
        #expect(try ExecutableDiscovery.ociRuntime(paths: [crun], cgroups: fixed).name == "crun")
    }
}
