import ArgumentParser

/// `varlink`: discover what a varlink service offers and call it by hand.
@main
struct VarlinkTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "varlink",
        abstract: "Inspect and call varlink services.",
        discussion: """
            ADDRESS is unix:/path/to/socket, unix:@abstract, tcp:HOST:PORT, exec:/path/to/program, or a socket \
            path. With -A CMD or -b CMD the tool starts the service itself, and no ADDRESS is given.

            Examples:
              varlink info unix:/run/x.sock
              varlink help unix:/run/x.sock/org.example.ping.Ping
              varlink call unix:/run/x.sock/org.example.ping.Ping '{"ping":"hi"}'
              echo '{"ping":"hi"}' | varlink call unix:/run/x.sock/org.example.ping.Ping -
              varlink -A 'my-service --varlink=$VARLINK_ADDRESS' list-methods

            Exit status:
            \(ExitStatus.table)

            Shell completion: varlink --generate-completion-script bash|zsh|fish (interface and method \
            names are completed from the live service once ADDRESS/ is typed).
            """,
        version: "1.0.0",
        subcommands: [
            Info.self, Help.self, Call.self, Bridge.self, Format.self,
            ListInterfaces.self, ListMethods.self, Introspect.self, ValidateIDL.self,
        ]
    )

    // Accepted before the command name too: `varlink -A CMD info`.
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
}
