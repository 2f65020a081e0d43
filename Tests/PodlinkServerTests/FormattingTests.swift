import Foundation
import Libpod
@testable import PodlinkServer
import Testing

/// podman 1.9's ways of writing times, durations and sizes, which its clients show or parse.
@Suite struct FormattingTests {
    static let durations: [(Double, String)] = [
        (0.4, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (61, "About a minute"), (600, "10 minutes"),
        (3600, "About an hour"), (7 * 3600, "7 hours"), (3 * 86_400, "3 days"), (20 * 86_400, "2 weeks"),
        (90 * 86_400, "3 months"), (800 * 86_400, "2 years"),
    ]

    @Test(arguments: durations)
    func humanDurationsAreGoUnits(seconds: Double, text: String) {
        #expect(PodmanFormat.humanDuration(seconds) == text)
    }

    @Test func psStatusesAreThoseOfPodmansService() {
        let now = Date()
        var state = ContainerState()
        #expect(PodmanFormat.psStatus(state, now: now) == "Created")
        state.status = .running
        state.startedAt = now.addingTimeInterval(-180)
        #expect(PodmanFormat.psStatus(state, now: now) == "Up 3 minutes ago")
        state.status = .exited
        state.exitCode = 3
        state.finishedAt = now.addingTimeInterval(-2)
        #expect(PodmanFormat.psStatus(state, now: now) == "Exited (3) 2 seconds ago")
        state.status = .paused
        #expect(PodmanFormat.psStatus(state, now: now) == "Paused")
    }

    @Test func uptimeSizesAndTimes() {
        #expect(PodmanFormat.uptime(12 * 60 + 3.4) == "12m 3.4s")
        #expect(PodmanFormat.uptime(3 * 3600 + 25 * 60 + 45.67) == "3h 25m 45.67s (Approximately 0.12 days)")
        #expect(PodmanFormat.decimalSize(999) == "999B")
        #expect(PodmanFormat.decimalSize(5_861_000) == "5.861MB")
        let date = Date(timeIntervalSince1970: 1_700_000_000.5)
        #expect(PodmanFormat.time(date) == "2023-11-14T22:13:20.500000000Z")
        #expect(PodmanFormat.seconds(date) == "2023-11-14T22:13:20Z")
        #expect(PodmanJSON.time(nil) == "0001-01-01T00:00:00Z")
    }

    @Test func nullableFieldsAreWrittenAsNull() {
        struct Document: Encodable {
            @Nullable var Labels: [String: String]?
            var Omitted: String?
        }
        #expect(PodmanJSON.encode(Document(Labels: nil, Omitted: nil)) == #"{"Labels":null}"#)
        let full = PodmanJSON.encode(Document(Labels: ["a": "b"], Omitted: "x"))
        #expect(full.contains(#""Labels":{"a":"b"}"#) && full.contains(#""Omitted":"x""#))
    }
}
