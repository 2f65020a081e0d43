import Varlink

/// podman 1.9.3's progress flow for long work (pull, push, save, commit): with `more`,
/// each log line is a reply of its own with `continues` and an empty ID, then the last
/// reply carries the ID and no lines; without `more`, the lines come together in the one
/// reply. `work` returns the ID.
func streamingProgress<Reply: Sendable>(
    _ call: VarlinkCall<Reply>, reply: @escaping @Sendable (_ logs: [String], _ id: String) -> Reply,
    _ work: (_ log: @escaping @Sendable (String) -> Void) async throws -> String
) async throws -> Reply {
    let (lines, continuation) = AsyncStream.makeStream(of: String.self)
    let streaming = call.wantsMore
    let sender = Task {
        var kept: [String] = []
        for await line in lines {
            if streaming {
                // A caller that hung up stops hearing progress; the work goes on to its end
                // (or is cancelled with the call) and leaves nothing half done either way.
                try? await call.sendContinues(reply([line], ""))
            } else {
                kept.append(line)
            }
        }
        return kept
    }
    let id: String
    do {
        id = try await work { continuation.yield($0) }
    } catch {
        continuation.finish()
        _ = await sender.value
        throw error
    }
    continuation.finish()
    return reply(await sender.value, id)
}
