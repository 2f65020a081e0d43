import Foundation
import Glibc

// The JSON documents of OCI image layouts and docker-archive tarballs, only as far as
// the store reads or writes them. Unknown keys are ignored when reading; optionals left
// nil are not written.

enum MediaType {
    static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    static let ociIndex = "application/vnd.oci.image.index.v1+json"
    static let ociConfig = "application/vnd.oci.image.config.v1+json"
    static let ociLayerTar = "application/vnd.oci.image.layer.v1.tar"
    static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let dockerManifestV1 = "application/vnd.docker.distribution.manifest.v1+json"
    static let dockerManifestV1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    static let dockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
}

struct OCIPlatform: Codable, Equatable {
    var architecture: String?
    var os: String?
    var variant: String?
}

struct OCIDescriptor: Codable, Equatable {
    var mediaType: String?
    var digest: String
    var size: Int64?
    var annotations: [String: String]?
    var platform: OCIPlatform?
}

struct OCIIndex: Codable {
    var schemaVersion: Int?
    var mediaType: String?
    var manifests: [OCIDescriptor]
}

struct OCIManifest: Codable {
    var schemaVersion: Int?
    var mediaType: String?
    var config: OCIDescriptor
    var layers: [OCIDescriptor]
    var annotations: [String: String]?
}

/// One image of a docker-archive's manifest.json.
struct DockerArchiveEntry: Codable {
    var config: String
    var repoTags: [String]?
    var layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config"
        case repoTags = "RepoTags"
        case layers = "Layers"
    }
}

/// A JSON object whose content does not matter (`"ExposedPorts": {"80/tcp": {}}`).
struct EmptyObject: Codable, Equatable {}

struct OCIImageConfigFile: Codable {
    var created: String?
    var author: String?
    var architecture: String?
    var os: String?
    var config: ContainerSection?
    var rootfs: RootFS?
    var history: [History]?

    struct ContainerSection: Codable {
        var user: String?
        var exposedPorts: [String: EmptyObject]?
        var env: [String]?
        var entrypoint: [String]?
        var cmd: [String]?
        var workingDir: String?
        var labels: [String: String]?
        var stopSignal: String?
        var volumes: [String: EmptyObject]?

        enum CodingKeys: String, CodingKey {
            case user = "User"
            case exposedPorts = "ExposedPorts"
            case env = "Env"
            case entrypoint = "Entrypoint"
            case cmd = "Cmd"
            case workingDir = "WorkingDir"
            case labels = "Labels"
            case stopSignal = "StopSignal"
            case volumes = "Volumes"
        }
    }

    struct RootFS: Codable {
        var type: String
        var diffIDs: [String]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    struct History: Codable {
        var created: String?
        var createdBy: String?
        var author: String?
        var comment: String?
        var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created
            case createdBy = "created_by"
            case author
            case comment
            case emptyLayer = "empty_layer"
        }
    }

    var imageConfig: ImageConfig {
        let section = config
        return ImageConfig(
            env: section?.env ?? [], cmd: section?.cmd ?? [], entrypoint: section?.entrypoint ?? [],
            workingDir: section?.workingDir ?? "", user: section?.user ?? "", labels: section?.labels ?? [:],
            stopSignal: section?.stopSignal.flatMap { $0.isEmpty ? nil : $0 },
            exposedPorts: (section?.exposedPorts?.keys).map { $0.sorted() } ?? [],
            volumes: (section?.volumes?.keys).map { $0.sorted() } ?? [],
            author: author ?? "", architecture: architecture ?? "", os: os ?? "",
            history: (history ?? []).map {
                ImageHistoryEntry(
                    created: $0.created.flatMap(RFC3339.parse), createdBy: $0.createdBy ?? "", author: $0.author ?? "",
                    comment: $0.comment ?? "", emptyLayer: $0.emptyLayer ?? false)
            })
    }
}

enum OCIJSON {
    /// Sorted keys and no escaped slashes: the bytes of a config or manifest are what its
    /// digest (and so the image ID) is computed over, so the same input must give the
    /// same bytes.
    static func encode<T: Encodable>(_ value: T) throws(LibpodError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw .encoding(what: "\(T.self)", cause: "\(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String, archive: String) throws(LibpodError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw .invalidArchive(path: archive, reason: "\(what) is not valid JSON of the expected shape: \(describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key \"\(key.stringValue)\"" + path(context)
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return context.debugDescription + path(context)
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription + path(context)
        default:
            return "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "" : " at " + context.codingPath.map(\.stringValue).joined(separator: ".")
    }
}

/// RFC 3339 times as OCI configs carry them, with up to nanosecond fractions.
enum RFC3339 {
    static func format(seconds: Int, nanoseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let fraction = String(nanoseconds)
        let padded = String(repeating: "0", count: 9 - fraction.count) + fraction
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(padded)Z"
    }

    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        return format(seconds: Int(whole), nanoseconds: min(999_999_999, Int((seconds - whole) * 1e9)))
    }

    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: spec.tv_sec, nanoseconds: spec.tv_nsec)
    }

    /// `2024-05-01T12:34:56.123456789Z` or with `+02:00`; nil when it is not that shape.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        var fraction = 0.0
        if index < bytes.count && bytes[index] == 0x2e {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30 && bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect("Zz") {
        } else if index < bytes.count && (bytes[index] == 0x2b || bytes[index] == 0x2d) {
            let sign = bytes[index] == 0x2d ? -1 : 1
            index += 1
            guard let hours = number(2), expect(":"), let minutes = number(2) else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts) - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
