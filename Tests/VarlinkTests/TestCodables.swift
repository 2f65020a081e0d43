import Varlink

// Hand-written codables shaped like generated code:
// type Mount (source: string, readOnly: ?bool)
// type Create (name: string, env: []string, labels: [string]string, mounts: ?[]Mount,
//              note: ?string, annotations: ?[string]string)
// method Create(create: Create, capabilities: ?[string]()) -> ()

struct Mount: VarlinkCodable, Equatable {
    var source: String
    var readOnly: Bool?

    init(source: String, readOnly: Bool? = nil) {
        self.source = source
        self.readOnly = readOnly
    }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        source = try fields.required("source")
        readOnly = try fields.optional("readOnly")
        try fields.finish(knownKeys: ["source", "readOnly"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("source")
        writer.string(source)
        if let readOnly {
            writer.key("readOnly")
            writer.bool(readOnly)
        }
        writer.endObject()
    }

    static var varlinkTypeName: String { "Mount" }
}

struct Create: VarlinkCodable, Equatable {
    var name: String
    var env: [String]
    var labels: [String: String]
    var mounts: [Mount]?
    var note: String?
    var annotations: [String: String]?

    init(
        name: String, env: [String] = [], labels: [String: String] = [:], mounts: [Mount]? = nil,
        note: String? = nil, annotations: [String: String]? = nil
    ) {
        self.name = name
        self.env = env
        self.labels = labels
        self.mounts = mounts
        self.note = note
        self.annotations = annotations
    }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        name = try fields.required("name")
        env = try fields.required("env")
        labels = try fields.required("labels")
        mounts = try fields.optional("mounts")
        note = try fields.optional("note")
        annotations = try fields.optional("annotations")
        try fields.finish(knownKeys: ["name", "env", "labels", "mounts", "note", "annotations"])
    }

    func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        writer.beginObject()
        writer.key("name")
        writer.string(name)
        writer.key("env")
        try env.encode(to: &writer)
        writer.key("labels")
        try labels.encode(to: &writer)
        if let mounts {
            writer.key("mounts")
            try mounts.encode(to: &writer)
        }
        if let note {
            writer.key("note")
            writer.string(note)
        }
        if let annotations {
            writer.key("annotations")
            try annotations.encode(to: &writer)
        }
        writer.endObject()
    }

    static var varlinkTypeName: String { "Create" }
}

struct CreateParameters: VarlinkCodable, Equatable {
    var create: Create
    var capabilities: Set<String>?

    init(create: Create, capabilities: Set<String>? = nil) {
        self.create = create
        self.capabilities = capabilities
    }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        create = try fields.required("create")
        capabilities = try fields.optional("capabilities")
        try fields.finish(knownKeys: ["create", "capabilities"])
    }

    func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        writer.beginObject()
        writer.key("create")
        try create.encode(to: &writer)
        if let capabilities {
            writer.key("capabilities")
            capabilities.encode(to: &writer)
        }
        writer.endObject()
    }

    static var varlinkTypeName: String { "(create: Create, capabilities: ?[string]())" }
}

// type NameReply (name: string, count: ?int)
struct NameReply: VarlinkCodable, Equatable {
    var name: String
    var count: Int?

    init(name: String, count: Int? = nil) {
        self.name = name
        self.count = count
    }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        name = try fields.required("name")
        count = try fields.optional("count")
        try fields.finish(knownKeys: ["name", "count"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("name")
        writer.string(name)
        if let count {
            writer.key("count")
            writer.int(count)
        }
        writer.endObject()
    }

    static var varlinkTypeName: String { "(name: string, count: ?int)" }
}
