import Dispatch
import Synchronization

/// Hands values from a thread that blocks (a socket reader) to a task, at most `capacity`
/// ahead of it: the thread waits when the task falls behind, so a slow consumer holds
/// the producer back instead of filling memory. `finish` ends it from either side.
final class ThreadToTaskBridge<Value: Sendable>: Sendable {
    private struct State {
        var buffered: [Value] = []
        var head = 0
        var waiter: CheckedContinuation<Value?, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    private let room: DispatchSemaphore

    init(capacity: Int) {
        room = DispatchSemaphore(value: capacity)
    }

    /// On the producing thread: blocks while `capacity` values wait. False once finished.
    func put(_ value: Value) -> Bool {
        while room.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if state.withLock({ $0.finished }) { return false }
        }
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>?? in
            guard !state.finished else { return .some(nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffered.append(value)
            return nil
        }
        switch waiter {
        case .none: return true
        case .some(.none):
            room.signal()
            return false
        case .some(.some(let continuation)):
            // Handed over at once: its room is free again.
            room.signal()
            continuation.resume(returning: value)
            return true
        }
    }

    /// The next value, or nil once finished and drained.
    func next() async -> Value? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
            let ready = state.withLock { state -> Value?? in
                if state.head < state.buffered.count {
                    let value = state.buffered[state.head]
                    state.head += 1
                    if state.head > 64 && state.head * 2 > state.buffered.count {
                        state.buffered.removeFirst(state.head)
                        state.head = 0
                    }
                    return .some(value)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready {
                if ready != nil { room.signal() }
                continuation.resume(returning: ready)
            }
        }
    }

    /// No more values: the consumer drains what is buffered, then gets nil; a blocked
    /// producer gives up.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}

/// Hands work from tasks to a thread that blocks doing it (a socket writer), in order;
/// each task waits until its work is done, which is the back-pressure.
final class TaskToThreadBridge<Work: Sendable>: Sendable {
    private struct State {
        var queue: [(work: Work, done: CheckedContinuation<Bool, Never>)] = []
        var finished = false
    }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    /// Runs `work` on the thread; true once done, false if the thread has finished.
    func submit(_ work: Work) async -> Bool {
        await withCheckedContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard !state.finished else { return false }
                state.queue.append((work, continuation))
                return true
            }
            if accepted { ready.signal() } else { continuation.resume(returning: false) }
        }
    }

    /// On the working thread: the next work, or nil once finished. The returned closure
    /// reports whether it succeeded.
    func take() -> (Work, (Bool) -> Void)? {
        while true {
            ready.wait()
            let item = state.withLock { state -> (work: Work, done: CheckedContinuation<Bool, Never>)?? in
                if !state.queue.isEmpty { return .some(state.queue.removeFirst()) }
                return state.finished ? .some(nil) : nil
            }
            switch item {
            case .none: continue
            case .some(.none): return nil
            case .some(.some(let entry)): return (entry.work, { entry.done.resume(returning: $0) })
            }
        }
    }

    /// Ends the thread after the work queued so far; later submissions are refused.
    func finish() {
        let drained = state.withLock { state -> Bool in
            state.finished = true
            return state.queue.isEmpty
        }
        _ = drained
        ready.signal()
    }

    /// Refuses everything still queued (the thread is gone).
    func cancelQueued() {
        let queued = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.finished = true
            defer { state.queue.removeAll() }
            return state.queue.map(\.done)
        }
        for continuation in queued { continuation.resume(returning: false) }
        ready.signal()
    }
}
