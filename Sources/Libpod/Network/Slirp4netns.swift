import Foundation
import Glibc
import ProcessSpawn

/// A rootless container's network: slirp4netns gives the namespace the runtime made a
/// tap device with a user-mode TCP/IP stack behind it (10.0.2.100, gateway 10.0.2.2,
/// DNS 10.0.2.3), and forwards published host ports through its API socket.
///
/// Its life is conmon's: it exits when its exit pipe closes, and the write end goes to
/// conmon, which keeps it until the container is gone. Until conmon has it the daemon
/// does, so a daemon killed mid-start leaves no slirp4netns behind either.
public struct SlirpConnection: Sendable, Codable, Equatable {
    public static let address = "10.0.2.100"
    public static let gateway = "10.0.2.2"
    public static let nameServer = "10.0.2.3"
    /// The API socket (only when ports are published).
    public var apiSocket: String?
    public var ports: [PortMapping]
}

struct Slirp4netns {
    var path: String

    /// A started slirp4netns: the write end of its exit pipe, for conmon to hold.
    struct Running {
        var exitDescriptor: Int32
    }

    /// Starts slirp4netns on the namespace at `netns`, waits until it has configured it,
    /// and forwards `ports`. On failure nothing of it stays.
    /// What it prints goes to `logPath`.
    func start(netns: String, apiSocket: String?, ports: [PortMapping], containerID: String, logPath: String) async throws(LibpodError)
        -> Running
    {
        guard let pipe2 = LinuxCalls.pipe2 else { throw .unsupported(feature: "pipe2", advice: "a newer glibc") }
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw FileSystem.failure("opening the slirp4netns log", logPath) }
        defer { close(log) }
        var exit: [Int32] = [-1, -1]
        var ready: [Int32] = [-1, -1]
        guard pipe2(&exit, O_CLOEXEC) == 0 else { throw FileSystem.failure("making slirp4netns's exit pipe for", containerID) }
        guard pipe2(&ready, O_CLOEXEC) == 0 else {
            close(exit[0]); close(exit[1])
            throw FileSystem.failure("making slirp4netns's ready pipe for", containerID)
        }
        defer {
            close(exit[0])
            close(ready[0])
            if ready[1] >= 0 { close(ready[1]) }
        }
        if let apiSocket { unlink(apiSocket) }
        var arguments = [
            // setsid --fork: slirp4netns is nobody's child here, so none of our threads
            // has to wait for it; it is told to go by its exit pipe, not by a signal.
            "/usr/bin/setsid", "--fork", path, "--configure", "--mtu=65520", "--disable-host-loopback",
            "--exit-fd=3", "--ready-fd=4", "--netns-type=path",
        ]
        if let apiSocket { arguments.append("--api-socket=\(apiSocket)") }
        arguments += [netns, "tap0"]
        let launcher: pid_t
        do {
            launcher = try ProcessSpawn.spawn(arguments, descriptors: [(log, 1), (log, 2), (exit[0], 3), (ready[1], 4)], scrubbing: ["LISTEN_", "NOTIFY_SOCKET"])
        } catch {
            close(exit[1])
            throw .helperFailed(program: "slirp4netns (\(path))", cause: "\(error)")
        }
        close(ready[1])
        ready[1] = -1
        _ = await ProcessSpawn.waitForExit(launcher)
        let readyDescriptor = ready[0]
        // "1" once the tap device is up; EOF if it ended first.
        let signalled = await ProcessSpawn.onThread { () -> Bool in
            var poller = pollfd(fd: readyDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 10_000) == 1 else { return false }
            var byte: UInt8 = 0
            return read(readyDescriptor, &byte, 1) == 1 && byte == UInt8(ascii: "1")
        }
        guard signalled else {
            close(exit[1])
            throw .helperFailed(
                program: "slirp4netns (\(path))",
                cause: "it did not configure the network namespace of \(containerID.prefix(12)) within 10 seconds")
        }
        for port in ports {
            do throws(LibpodError) {
                try await forward(port, apiSocket: apiSocket ?? "")
            } catch {
                close(exit[1])
                throw error
            }
        }
        return Running(exitDescriptor: exit[1])
    }

    /// slirp4netns's add_hostfwd: the host's port on `hostIP` (all addresses when none)
    /// to the container's.
    private func forward(_ port: PortMapping, apiSocket: String) async throws(LibpodError) {
        let request: [String: Any] = [
            "execute": "add_hostfwd",
            "arguments": [
                "proto": port.protocol, "host_addr": port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP,
                "host_port": Int(port.hostPort), "guest_port": Int(port.containerPort),
            ] as [String: Any],
        ]
        let body: Data
        do { body = try JSONSerialization.data(withJSONObject: request) } catch {
            throw .encoding(what: "a slirp4netns request", cause: "\(error)")
        }
        let bytes = [UInt8](body)
        let reply = await ProcessSpawn.onThread { Self.exchange(bytes, socketPath: apiSocket) }
        guard let reply else {
            throw .helperFailed(program: "slirp4netns", cause: "its API socket \(apiSocket) did not answer")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(reply))) as? [String: Any]
        if object?["return"] != nil { return }
        let description = ((object?["error"] as? [String: Any])?["desc"] as? String) ?? String(decoding: reply, as: UTF8.self)
        if description.contains("add_hostfwd") || description.contains("failed") {
            throw .portInUse(hostIP: port.hostIP, port: port.hostPort, protocol: port.protocol)
        }
        throw .helperFailed(program: "slirp4netns", cause: "forwarding port \(port.hostPort): \(description)")
    }

    /// One request, then the whole reply (slirp4netns closes after it); nil on failure.
    private static func exchange(_ request: [UInt8], socketPath: String) -> [UInt8]? {
        guard let descriptor = try? UnixSocket.connect(socketPath, type: SOCK_STREAM, what: "slirp4netns's API socket") else { return nil }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard write(descriptor, request, request.count) == request.count else { return nil }
        shutdown(descriptor, Int32(SHUT_WR))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            reply += buffer[0..<count]
        }
        return reply.isEmpty ? nil : reply
    }
}
