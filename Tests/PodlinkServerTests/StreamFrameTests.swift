import PodmanStreams
import Testing

/// The frames of an upgraded Attach or ExecContainer connection, against the bytes
/// podman-remote 1.9.3 and podman 1.9.3 put on the wire (../shared/reference/podman-1.9.3-wire/exec-i.jsonl).
struct StreamFrameTests {
    static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { offset in
            let start = text.index(text.startIndex, offsetBy: offset)
            return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    @Test func framesAreByteForBytePodmans() {
        #expect(StreamFrame(.stdin, Array("piped-in\n".utf8)).encoded == Self.hex("010000000000000970697065642d696e0a"))
        #expect(StreamFrame.hangUp.encoded == Self.hex("0500000000000003454f46"))
        #expect(StreamFrame(.stdout, Array("piped-in\n".utf8)).encoded == Self.hex("000000000000000970697065642d696e0a"))
        #expect(StreamFrame.exit(125).encoded == Self.hex("04000000000000040000007d"))
        #expect(StreamFrame.exit(0).encoded == Self.hex("040000000000000400000000"))
    }

    @Test func theDecoderTakesBytesInAnyPieces() throws {
        let frames = [
            StreamFrame(.stdout, Array("hi\n".utf8)), StreamFrame(.stderr, []), StreamFrame(.stderr, [UInt8](repeating: 7, count: 70_000)),
            StreamFrame.exit(137),
        ]
        let bytes = frames.flatMap(\.encoded)
        for pieceSize in [1, 3, 8, 9, 4096, bytes.count] {
            var decoder = StreamFrameDecoder()
            var decoded: [StreamFrame] = []
            for offset in stride(from: 0, to: bytes.count, by: pieceSize) {
                decoder.append(bytes[offset..<min(offset + pieceSize, bytes.count)])
                while let frame = try decoder.next() { decoded.append(frame) }
            }
            #expect(decoded == frames, "pieces of \(pieceSize)")
            #expect(decoder.pendingBytes == 0)
        }
        #expect(frames.last?.exitCode == 137)
    }

    @Test func theReaderHandsDataOnInPiecesAndControlFramesWhole() throws {
        let frames = [
            StreamFrame(.stdin, Array("typed".utf8)), StreamFrame(.stdin, [UInt8](repeating: 1, count: 100_000)), .hangUp,
            .resize(width: 80, height: 24), StreamFrame(.stdout, []), StreamFrame.exit(3),
        ]
        let bytes = frames.flatMap(\.encoded)
        for pieceSize in [1, 7, 8, 4096, bytes.count] {
            var reader = StreamFrameReader()
            var stdin: [UInt8] = []
            var wholeSmall: [[UInt8]] = []
            var controls: [StreamFrame] = []
            for offset in stride(from: 0, to: bytes.count, by: pieceSize) {
                try reader.consume(Array(bytes[offset..<min(offset + pieceSize, bytes.count)])) { piece in
                    switch piece {
                    case .data(.stdin, let data, let whole):
                        stdin += data
                        if whole { wholeSmall.append(Array(data)) }
                    case .data: break
                    case .control(let frame): controls.append(frame)
                    }
                }
            }
            #expect(stdin == Array("typed".utf8) + [UInt8](repeating: 1, count: 100_000), "pieces of \(pieceSize)")
            #expect(controls == [.hangUp, .resize(width: 80, height: 24), .exit(3)], "pieces of \(pieceSize)")
            if pieceSize >= 13 { #expect(wholeSmall.first == Array("typed".utf8)) }
        }
        var broken = StreamFrameReader()
        #expect(throws: StreamFrameError.unknownStream(7)) { try broken.consume([7, 0, 0, 0, 0, 0, 0, 1, 0]) { _ in } }
    }

    @Test func brokenFramesAreRefusedWithWhatIsWrong() {
        var unknown = StreamFrameDecoder()
        unknown.append([9, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: StreamFrameError.unknownStream(9)) { try unknown.next() }
        var large = StreamFrameDecoder(maximumPayload: 1024)
        large.append([0, 0, 0, 0, 0, 0, 4, 1])
        #expect(throws: StreamFrameError.tooLarge(1025, limit: 1024)) { try large.next() }
    }

    @Test func terminalSizesInEitherCase() {
        let podmans = StreamFrame.resize(width: 120, height: 40)
        #expect(String(decoding: podmans.payload, as: UTF8.self) == #"{"Width":120,"Height":40}"#)
        #expect(podmans.terminalSize! == (120, 40))
        #expect(StreamFrame(.resize, Array(#"{"height": 24, "width": 80}"#.utf8)).terminalSize! == (80, 24))
        #expect(StreamFrame(.resize, Array("garbage".utf8)).terminalSize == nil)
        #expect(StreamFrame(.stdout, []).terminalSize == nil)
    }
}
