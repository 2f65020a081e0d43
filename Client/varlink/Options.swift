import ArgumentParser

/// How to reach the service, shared by every command that talks to one. Declared on the
/// root command too, so that `varlink -A CMD info` and `varlink info -A CMD` both work.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("A"), .customLong("activate")],
        help: ArgumentHelp(
            "Start CMD (a shell command) with a listening socket on fd 3 and $VARLINK_ADDRESS set, and talk to it instead of ADDRESS.",
            valueName: "CMD"
        )
    )
    var activate: String?

    @Option(
        name: [.customShort("b"), .customLong("bridge")],
        help: ArgumentHelp(
            "Start CMD (a shell command) and speak varlink over its stdin and stdout, e.g. 'ssh HOST varlink bridge --connect ADDRESS'.",
            valueName: "CMD"
        )
    )
    var bridge: String?

    @Option(
        help: ArgumentHelp(
            "Give up when the service has not replied within SECONDS (default: wait forever). Each reply of a --more call starts the clock again.",
            valueName: "SECONDS"
        )
    )
    var timeout: Double?

    @Option(
        name: [.customShort("R"), .customLong("resolver")],
        help: ArgumentHelp(
            "Where to ask org.varlink.resolver for the address of an interface when a call or help names no ADDRESS.",
            valueName: "ADDRESS"
        )
    )
    var resolver: String = "unix:/run/org.varlink.resolver"

    /// Whether the service is started by the tool (so no ADDRESS is given).
    var startsService: Bool { activate != nil || bridge != nil }

    func validate() throws {
        if activate != nil && bridge != nil {
            throw ValidationError("-A/--activate and -b/--bridge exclude each other.")
        }
        if let timeout, !(timeout >= 0 && timeout.isFinite) {
            throw ValidationError("--timeout takes a number of seconds, e.g. --timeout 2.5.")
        }
    }
}

/// systemd's JSON options.
struct OutputOptions: ParsableArguments {
    @Option(
        name: .customLong("json"),
        help: ArgumentHelp(
            "Print JSON, laid out as MODE: 'pretty' (indented, coloured on a terminal) or 'short' (one line). Default: pretty on a terminal, short otherwise.",
            valueName: "MODE"
        )
    )
    var layout: JSONLayout?

    @Flag(name: .customShort("j"), help: "Print JSON: pretty on a terminal, short otherwise.")
    var json = false

    /// Whether commands with a text form (info, list-*) print JSON instead.
    var wantsJSON: Bool { json || layout != nil }
}

extension JSONLayout: ExpressibleByArgument {}
