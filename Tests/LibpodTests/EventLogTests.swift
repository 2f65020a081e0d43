import Foundation
@testable import Libpod
import Testing

@Suite struct EventLogTests {
    @Test func appendReadSinceAndFollow() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let log = try EventLog(directory: scratch.root + "/events")
        let early = Date(timeIntervalSince1970: 1_000)
        let late = Date(timeIntervalSince1970: 2_000)
        try log.append(Event(time: early, type: .container, status: "create", id: idA, name: "web"))
        try log.append(Event(time: late, type: .container, status: "start", id: idA, name: "web"))
        #expect(try log.read().events.map(\.status) == ["create", "start"])
        #expect(try log.read(since: Date(timeIntervalSince1970: 1_500)).events.map(\.status) == ["start"])
        #expect(try log.read().events.first?.time == early, "times survive to the nanosecond")

        var iterator = log.follow(since: late, pollInterval: .milliseconds(5)).makeAsyncIterator()
        #expect(try await iterator.next()?.status == "start")
        try log.append(Event(type: .image, status: "remove", id: "x"))
        let next = try await iterator.next()
        #expect(next?.status == "remove" && next?.type == .image)
    }

    @Test func aTornLineIsSkipped() throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let log = try EventLog(directory: scratch.root + "/events")
        try log.append(Event(type: .system, status: "refresh"))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"broken\n".utf8))
        try handle.close()
        try log.append(Event(type: .system, status: "refresh"))
        #expect(try log.read().events.count == 2)
    }
}
