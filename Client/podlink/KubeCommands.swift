import ArgumentParser
import Foundation
import PodmanClient

struct GenerateCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate descriptions of pods and containers.", subcommands: [GenerateKube.self])
}

struct GenerateKube: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube", abstract: "Print a pod or container as Kubernetes Pod YAML.",
        discussion: "The YAML runs on a Kubernetes cluster, with `podman kube play`, and with `podlink play kube`.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Add a Service for the pod's ports.") var service = false
    @Argument(help: "The pod or container (name or ID).") var name: String

    func run() async throws {
        let yaml = try await global.withClient { try await $0.generateKube(name, service: service) }
        print(yaml.pod, terminator: "")
        if !yaml.service.isEmpty { print("---\n" + yaml.service, terminator: "") }
    }
}

struct PlayCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play", abstract: "Create pods from descriptions.", subcommands: [PlayKube.self])
}

struct PlayKube: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube", abstract: "Create and start the pods of a Kubernetes Pod YAML file (- for standard input).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Start the pods (true or false).") var start = true
    @Argument(help: "The YAML file.") var file: String

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data, let yaml = String(data: data, encoding: .utf8) else { throw ValidationError("cannot read \(file) as UTF-8 text") }
        let pods = try await global.withClient { try await $0.playKube(yaml, start: start) }
        for pod in pods {
            print("Pod:\n\(pod.id)\nContainers:")
            for container in pod.containers { print(container) }
        }
    }
}
