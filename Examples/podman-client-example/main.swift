import PodlinkInterfaces
import PodmanClient

// The SDK in a few lines: connect (from $PODLINK_ADDRESS or the default socket), run a
// container from an image that is already imported, print its output and exit code.
//
//   swift run podman-client-example [IMAGE]

let image = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "localhost/busybox:latest"
let podman = try await PodmanClient.connect()
let version = try await podman.api.getVersion()
print("connected to Podlink \(version.version) (\(version.osArch))")

let id = try await podman.create(image: image, command: ["/bin/sh", "-c", "echo hello from $(hostname)"])
try await podman.start(id)
for try await line in podman.logs(id, follow: true) { print("container says: \(line.msg)") }
print("exit code: \(try await podman.wait(id))")
try await podman.remove(id)

do {
    try await podman.start("no-such-container")
} catch let error as IoPodman.ContainerNotFound {
    print("typed error, as expected: \(error.reason)")
}
await podman.close()
