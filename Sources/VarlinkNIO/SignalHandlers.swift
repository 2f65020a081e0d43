import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Runs an action when the process receives one of the given signals (SIGTERM, SIGINT),
/// instead of dying: a server uses it to stop accepting and finish its open calls.
/// Unchecked Sendable: the sources are created in `init` and never replaced; dispatch
/// sources are thread-safe to cancel.
public final class SignalHandlers: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    public init(on signals: [Int32], _ action: @escaping @Sendable () -> Void) {
        sources = signals.map { number in
            // The default action would kill the process before the handler runs.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: action)
            source.resume()
            return source
        }
    }

    /// Restores the default behaviour.
    public func cancel() {
        for source in sources {
            source.cancel()
            signal(Int32(source.handle), SIG_DFL)
        }
    }
}
