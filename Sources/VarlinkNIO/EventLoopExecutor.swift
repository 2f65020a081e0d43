import NIOCore

/// Runs tasks on one event loop's thread. A connection's task prefers it, so reading a
/// call, handling it and writing the reply all happen on the thread that owns the
/// socket: no hand-off between NIO's threads and the task pool on every call, which is
/// most of the latency of a small call.
final class EventLoopExecutor: TaskExecutor, @unchecked Sendable {
    // Unchecked Sendable: the only stored property is an EventLoop, which is Sendable.
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
