import PackagePlugin

/// Generates Swift from every `*.varlink` file of the target it is applied to: one
/// build command per interface file, writing `<file name>.swift` into the plugin's work
/// directory, so that editing one interface regenerates only its code.
@main
struct VarlinkCodegenPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        guard let sourceTarget = target as? SourceModuleTarget else { return [] }
        let generator = try context.tool(named: "varlink-codegen").url
        let outputDirectory = context.pluginWorkDirectoryURL.appending(path: "GeneratedSources")
        return sourceTarget.sourceFiles(withSuffix: "varlink").map { file in
            let output = outputDirectory.appending(path: file.url.lastPathComponent + ".swift")
            return .buildCommand(
                displayName: "Generating Swift for \(file.url.lastPathComponent)",
                executable: generator,
                arguments: ["generate", file.url.path(), "--output", outputDirectory.path()],
                inputFiles: [file.url],
                outputFiles: [output]
            )
        }
    }
}
