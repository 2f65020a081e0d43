import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Containers on CNI networks, against a daemon in a network namespace of its own (see
/// `Daemon`): every connection below goes to 127.0.0.1 or to a container's address inside
/// that namespace, never out of the machine's own.
@Suite(.timeLimit(.minutes(10)))
struct NetworkTests {
    /// busybox httpd serving `content` on port 80.
    static func webServer(_ content: String) -> [String] {
        ["/bin/sh", "-c", "mkdir -p /www && echo \(content) > /www/index.html && exec httpd -f -p 80 -h /www"]
    }

    /// The host's python, bind-mounted read-only, answering UDP datagrams on 5353 with
    /// "echo:" and the datagram (busybox has no UDP server).
    static let udpEcho: (command: [String], volumes: [String]) = (
        ["/usr/bin/python3", "-c", """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 5353))
        while True:
            data, peer = s.recvfrom(2048)
            s.sendto(b"echo:" + data, peer)
        """],
        ["/usr:/usr:ro", "/usr/lib:/lib:ro", "/usr/lib64:/lib64:ro"]
    )

    /// `url` fetched with wget from the daemon's namespace, retried while the server comes up.
    static func fetch(_ url: String, in daemon: Daemon) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            // (Debian's busybox wget crashes with -T: timeout bounds it instead.)
            let output = try await daemon.runInNetworkNamespace(["timeout", "5", "busybox", "wget", "-q", "-O", "-", url])
            if output.status == 0 { return output.stdout }
            guard ContinuousClock.now < deadline else { throw TestFailure("fetching \(url) from the daemon's namespace: \(output)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// What a UDP datagram to `port` on 127.0.0.1 of the daemon's namespace gets back.
    static func udpRoundTrip(port: Int, in daemon: Daemon) async throws -> String {
        let script = """
            import socket, sys, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.5)
            for _ in range(30):
                s.sendto(b"ping", ("127.0.0.1", \(port)))
                try:
                    print(s.recvfrom(100)[0].decode()); sys.exit(0)
                except socket.timeout:
                    pass
            sys.exit(1)
            """
        let output = try await daemon.runInNetworkNamespace(["python3", "-c", script])
        guard output.status == 0 else { throw TestFailure("no UDP answer on 127.0.0.1:\(port): \(output)") }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `command` to its end and returns its exit code and output; the container is removed.
    static func runToEnd(_ client: PodmanClient, _ command: [String], options: PodmanClient.CreateOptions = .init()) async throws
        -> (code: Int, output: String)
    {
        let id = try await client.create(image: "busybox", command: command, options: options)
        try await client.start(id)
        let code = try await client.wait(id)
        var output = ""
        for try await line in client.logs(id) { output += line.msg + "\n" }
        try await client.remove(id, force: true)
        return (code, output)
    }

    static func inspect(_ client: PodmanClient, _ id: String) async throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try await client.inspect(id).utf8)) as? [String: Any] ?? [:]
    }

    static func address(_ client: PodmanClient, _ id: String) async throws -> String {
        let settings = try await inspect(client, id)["NetworkSettings"] as? [String: Any]
        return settings?["IPAddress"] as? String ?? ""
    }

    /// The veth devices in the daemon's namespace (one per connected container), once
    /// there are `expected` of them or 10 s have passed (the kernel retires a pair after
    /// its namespace goes, not at once).
    static func veths(_ daemon: Daemon, expecting expected: Int) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let output = try await daemon.runInNetworkNamespace(["ip", "-o", "link", "show", "type", "veth"])
            let names = output.stdout.split(separator: "\n").map { String($0.split(separator: ":")[1]).trimmingCharacters(in: .whitespaces) }
            if names.count == expected || ContinuousClock.now > deadline { return names }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What a container's connection left: its namespace's mount file, its lease, and
    /// iptables rules naming its ID or its address; waited for, since the teardown ends
    /// after `rm` returns.
    static func networkLeftovers(_ daemon: Daemon, id: String, address: String) async throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            var found = Daemon.leases(of: [id]).map { "lease \($0)" }
            if FileManager.default.fileExists(atPath: "\(daemon.tmpDir)/netns/\(id)") { found.append("netns file of \(id.prefix(12))") }
            let rules = try await daemon.runInNetworkNamespace(["iptables-save"]).stdout
            for line in rules.split(separator: "\n") where line.contains(id) || (!address.isEmpty && line.contains(address + "/")) {
                found.append("iptables: \(line)")
            }
            if found.isEmpty || ContinuousClock.now > deadline { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: - Published ports

    @Test func publishedPortsCarryTCPAndUDPFromLoopback() async throws {
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.publish = ["18080:80", "15353:5353/udp"]
            options.volumes = Self.udpEcho.volumes
            let server = "mkdir -p /www && echo published > /www/index.html && httpd -p 80 -h /www && exec \"$@\""
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", server, "sh"] + Self.udpEcho.command, options: options)
            try await client.start(id)

            #expect(try await Self.fetch("http://127.0.0.1:18080/", in: daemon) == "published\n")
            #expect(try await Self.udpRoundTrip(port: 15353, in: daemon) == "echo:ping")

            let ports = try await client.ports(id).map { "\($0.containerPort)/\($0.protocol)->\($0.hostPort)" }
            #expect(Set(ports) == ["80/tcp->18080", "5353/udp->15353"])
            let listed = try await client.list().first { id.hasPrefix($0.id) }
            #expect(listed?.ports.contains("0.0.0.0:18080->80/tcp") == true, "\(String(describing: listed?.ports))")
            let settings = try await Self.inspect(client, id)["NetworkSettings"] as? [String: Any] ?? [:]
            let address = settings["IPAddress"] as? String ?? ""
            #expect(address.hasPrefix("10.88."), "the default network's subnet: \(settings)")
            #expect(settings["Gateway"] as? String == "10.88.0.1")
            #expect((settings["MacAddress"] as? String)?.count == 17)
            // podman 1.9's shape: CNI's port mappings, as a list.
            let published = (settings["Ports"] as? [[String: Any]])?.first { $0["containerPort"] as? Int == 80 }
            #expect(published?["hostPort"] as? Int == 18080, "\(settings)")
            // The container's own files: its name on its address, no loopback resolver.
            let files = try await Self.runToEnd(client, ["/bin/sh", "-c", "cat /etc/hosts /etc/resolv.conf; ip -o -4 addr show eth0"], options: {
                var options = PodmanClient.CreateOptions()
                options.name = "reader"
                options.addHosts = ["extra.example:10.1.2.3"]
                return options
            }())
            let own = files.output.split(separator: " ").first { $0.hasPrefix("10.88.") && $0.hasSuffix("/16") }?.dropLast(3) ?? "?"
            #expect(files.output.contains("\(own)\t") && files.output.contains(" reader\n"), "its name on its address \(own): \(files.output)")
            #expect(files.output.contains("10.1.2.3\textra.example"), "\(files.output)")
            #expect(!files.output.contains("nameserver 127."), "\(files.output)")
        }
    }

    @Test func aTakenHostPortIsAnErrorNamingThePort() async throws {
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.publish = ["18081:80"]
            let first = try await client.create(image: "busybox", command: Self.webServer("first"), options: options)
            try await client.start(first)
            let second = try await client.create(image: "busybox", command: Self.webServer("second"), options: options)
            do {
                try await client.start(second)
                Issue.record("a second container took host port 18081")
            } catch {
                #expect("\(error)".contains("18081"), "\(error)")
            }
            // A port another program of the namespace listens on.
            let listener = try ChildProcess.start(daemon.inNetworkNamespace(["busybox", "nc", "-l", "-p", "18082"]))
            defer { kill(listener.process.processIdentifier, SIGKILL) }
            try await Task.sleep(for: .milliseconds(200))
            options.publish = ["18082:80"]
            let third = try await client.create(image: "busybox", command: Self.webServer("third"), options: options)
            do {
                try await client.start(third)
                Issue.record("a container took host port 18082 from a listening program")
            } catch {
                #expect("\(error)".contains("18082"), "\(error)")
            }
            // The refused ones connected nothing, and the first still serves.
            for id in [second, third] { #expect(try await Self.networkLeftovers(daemon, id: id, address: "").isEmpty) }
            #expect(try await Self.fetch("http://127.0.0.1:18081/", in: daemon) == "first\n")
        }
    }

    // MARK: - Between containers

    @Test func containersReachEachOtherByAddressAndByName() async throws {
        try await Daemon.with { daemon, client in
            let web = try await client.create(image: "busybox", command: Self.webServer("by-address"))
            try await client.start(web)
            let address = try await Self.address(client, web)
            let byAddress = try await Self.runToEnd(client, ["/bin/sh", "-c", "for i in $(seq 50); do wget -q -O - http://\(address)/ && exit 0; sleep 0.1; done; exit 1"])
            #expect(byAddress.code == 0 && byAddress.output.contains("by-address"), "\(byAddress)")

            // Name resolution: Debian's golang-github-containernetworking-plugin-dnsname
            // (dnsmasq on the network's gateway), on a network `network create` made.
            let network = try await client.createNetwork(IoPodlink.NetworkCreate(name: "named"))
            #expect(network.plugins.contains("dnsname"), "\(network)")
            #expect(network.subnets == ["10.89.0.0/24"])
            var named = PodmanClient.CreateOptions()
            named.network = "named"
            named.name = "web"
            let server = try await client.create(image: "busybox", command: Self.webServer("by-name"), options: named)
            try await client.start(server)
            named.name = nil
            let byName = try await Self.runToEnd(
                client, ["/bin/sh", "-c", "for i in $(seq 50); do wget -q -O - http://web/ && exit 0; sleep 0.1; done; exit 1"], options: named)
            #expect(byName.code == 0 && byName.output.contains("by-name"), "\(byName)")
        }
    }

    @Test func severalNetworksAStaticMACAndEveryExposedPort() async throws {
        try await Daemon.with { daemon, client in
            _ = try await client.createNetwork(IoPodlink.NetworkCreate(name: "second", subnet: "10.66.0.0/24", disableDNS: true))
            var options = PodmanClient.CreateOptions()
            options.network = "podman,second"
            let both = try await Self.runToEnd(client, ["/bin/ip", "-o", "-4", "addr"], options: options)
            #expect(both.code == 0 && both.output.contains("eth0") && both.output.contains("10.88."), "\(both)")
            #expect(both.output.contains("eth1") && both.output.contains("inet 10.66.0."), "\(both)")

            options = PodmanClient.CreateOptions()
            options.macAddress = "92:d0:c6:0a:29:33"
            let mac = try await Self.runToEnd(client, ["/bin/cat", "/sys/class/net/eth0/address"], options: options)
            #expect(mac.output == "92:d0:c6:0a:29:33\n", "\(mac)")

            // -P: the image's EXPOSE on a free host port.
            _ = try await client.importImage(tarball: daemon.tarball, reference: "localhost/exposing:latest", changes: ["EXPOSE 80"])
            options = PodmanClient.CreateOptions()
            options.publishAll = true
            let web = try await client.create(image: "localhost/exposing", command: Self.webServer("exposed"), options: options)
            try await client.start(web)
            let ports = try await client.ports(web)
            let hostPort = try #require(ports.first { $0.containerPort == "80" }?.hostPort)
            #expect(Int(hostPort) ?? 0 > 0)
            #expect(try await Self.fetch("http://127.0.0.1:\(hostPort)/", in: daemon) == "exposed\n")
        }
    }

    @Test func containerModeSharesTheOthersInterfaces() async throws {
        try await Daemon.with { daemon, client in
            let owner = try await client.create(image: "busybox", command: ["/bin/sleep", "1000"])
            try await client.start(owner)
            let address = try await Self.address(client, owner)
            var options = PodmanClient.CreateOptions()
            options.network = "container:\(owner)"
            let seen = try await Self.runToEnd(client, ["/bin/ip", "-o", "-4", "addr", "show", "eth0"], options: options)
            #expect(seen.code == 0 && seen.output.contains(address + "/16"), "\(seen) (owner's address \(address))")
        }
    }

    @Test func twentyContainersConnectConcurrentlyWithDistinctAddresses() async throws {
        try await Daemon.with { daemon, client in
            var ids: [String] = []
            for _ in 0..<20 { ids.append(try await client.create(image: "busybox", command: ["/bin/sleep", "1000"])) }
            let connections = try await withThrowingTaskGroup(of: PodmanClient.self) { group in
                for _ in 0..<4 { group.addTask { try await daemon.client() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, id) in ids.enumerated() { group.addTask { try await connections[index % 4].start(id) } }
                try await group.waitForAll()
            }
            var addresses: Set<String> = []
            for id in ids { addresses.insert(try await Self.address(client, id)) }
            #expect(addresses.count == 20 && !addresses.contains(""), "\(addresses)")
            #expect(try await Self.veths(daemon, expecting: 20).count == 20)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, id) in ids.enumerated() { group.addTask { try await connections[index % 4].remove(id, force: true) } }
                try await group.waitForAll()
            }
            for connection in connections { await connection.close() }
            let leftovers = await daemon.leftovers(of: ids)
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    // MARK: - Teardown

    /// After `rm`, after the daemon is SIGKILLed while a container exits, and after a
    /// reboot (namespaces gone, leases and rules still there), nothing of the container's
    /// connection is left.
    @Test func teardownLeavesNothingAfterRemovalACrashAndAReboot() async throws {
        try await Daemon.with { daemon, client in
            var options = PodmanClient.CreateOptions()
            options.publish = ["18083:80"]

            // rm
            let removed = try await client.create(image: "busybox", command: Self.webServer("removed"), options: options)
            try await client.start(removed)
            let removedAddress = try await Self.address(client, removed)
            #expect(try await Self.veths(daemon, expecting: 1).count == 1)
            #expect(!Daemon.leases(of: [removed]).isEmpty, "host-local holds a lease while it runs")
            try await client.remove(removed, force: true)
            #expect(try await Self.networkLeftovers(daemon, id: removed, address: removedAddress).isEmpty)
            #expect(try await Self.veths(daemon, expecting: 0).isEmpty)

            // The daemon is killed; the container exits while nothing watches it.
            let exiting = try await client.create(image: "busybox", command: ["/bin/sleep", "1"], options: options)
            try await client.start(exiting)
            let exitingAddress = try await Self.address(client, exiting)
            await client.close()
            await daemon.crash()
            try await Task.sleep(for: .seconds(2))
            try await daemon.start()
            let again = try await daemon.client()
            #expect(try await again.wait(exiting) == 0)
            #expect(try await Self.networkLeftovers(daemon, id: exiting, address: exitingAddress).isEmpty)
            try await again.remove(exiting)

            // A reboot: the processes die, mounts and tmp_dir go; the namespace's iptables
            // rules and the leases on disk stay, as they may on a real machine.
            let running = try await again.create(image: "busybox", command: Self.webServer("rebooted"), options: options)
            try await again.start(running)
            let runningAddress = try await Self.address(again, running)
            let state = try await Self.inspect(again, running)["State"] as? [String: Any] ?? [:]
            await again.close()
            await daemon.stop()
            try await daemon.simulateReboot(killing: [state["ConmonPid"], state["Pid"]].compactMap { $0 as? Int })
            #expect(!Daemon.leases(of: [running]).isEmpty, "the simulated reboot keeps the lease")
            try await daemon.start()
            let afterReboot = try await daemon.client()
            let leftovers = try await Self.networkLeftovers(daemon, id: running, address: runningAddress)
            #expect(leftovers.isEmpty, "\(leftovers)")
            #expect(try await Self.veths(daemon, expecting: 0).isEmpty)
            // The host port is free again: a new container takes it.
            let successor = try await afterReboot.create(image: "busybox", command: Self.webServer("successor"), options: options)
            try await afterReboot.start(successor)
            #expect(try await Self.fetch("http://127.0.0.1:18083/", in: daemon) == "successor\n")
            await afterReboot.close()
        }
    }

    // MARK: - Networks through the CLI

    @Test func networkCommandsOfTheCLI() async throws {
        try await Daemon.with { daemon, client in
            let podlink = Environment.builtProduct("podlink")
            let url = ["--url", daemon.address]
            let created = try await Tool.run([podlink, "network", "create"] + url + ["--subnet", "10.77.0.0/24", "--disable-dns", "office"])
            #expect(created.status == 0 && created.stdout.hasSuffix("office.conflist\n"), "\(created)")
            let duplicate = try await Tool.run([podlink, "network", "create"] + url + ["office"])
            #expect(duplicate.status == 125 && duplicate.stderr.contains("exists already"), "\(duplicate)")
            let overlapping = try await Tool.run([podlink, "network", "create"] + url + ["--subnet", "10.77.0.128/25", "other"])
            #expect(overlapping.status == 125 && overlapping.stderr.contains("overlaps 10.77.0.0/24"), "\(overlapping)")

            let listed = try await Tool.run([podlink, "network", "ls"] + url)
            #expect(listed.stdout.contains("podman ") && listed.stdout.contains("office "), "the default network is listed too: \(listed)")
            #expect(listed.stdout.contains("bridge,portmap,firewall,tuning\n"), "\(listed)")
            let inspected = try await Tool.run([podlink, "network", "inspect"] + url + ["office"])
            let documents = try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [[String: Any]]
            #expect(documents?.first?["name"] as? String == "office", "\(inspected)")
            let missing = try await Tool.run([podlink, "network", "inspect"] + url + ["nowhere"])
            #expect(missing.status == 125 && missing.stderr.contains("no CNI network named \"nowhere\""), "\(missing)")

            let user = try await Tool.run([podlink, "run", "-d"] + url + ["--network", "office", "--ip", "10.77.0.50", "-p", "18084:80", "busybox"] + Self.webServer("office"))
            #expect(user.status == 0, "\(user)")
            let id = user.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await Self.address(client, id) == "10.77.0.50")
            let port = try await Tool.run([podlink, "port"] + url + [id, "80"])
            #expect(port.stdout == "0.0.0.0:18084\n", "\(port)")
            let refused = try await Tool.run([podlink, "network", "rm"] + url + ["office"])
            #expect(refused.status == 125 && refused.stderr.contains("is used by"), "\(refused)")
            let forced = try await Tool.run([podlink, "network", "rm", "--force"] + url + ["office"])
            #expect(forced.status == 0, "\(forced)")
            #expect(try await client.exists(id) == false, "--force removed the container on it")
            #expect(try await Self.networkLeftovers(daemon, id: id, address: "10.77.0.50").isEmpty)
        }
    }
}
