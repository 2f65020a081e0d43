/// A parsed JSON document as one flat array of entries in document order (a "tape"),
/// plus the bytes its strings point into.
///
/// Why a tape rather than a tree of allocated nodes (jansson's `json_t`): parsing costs one
/// pass and a handful of allocations whatever the document's size, and generated code
/// reads the fields of a struct in the order an encoder wrote them, which on a tape is a
/// forward walk. A node is an index into the tape.
///
/// Layout: a scalar takes one entry. A container takes one entry followed by its
/// contents; its entry records how many elements (or members) it has and the index just
/// past its last descendant, so a reader can step over it in constant time. An object's
/// members are a key entry (a string) followed by the value's entries.
@usableFromInline
struct JSONTapeEntry {
    /// int: the Int64 bits; float: the Double bits; string: the offset of its bytes;
    /// array and object: the index of the entry after the container.
    @usableFromInline var payload: UInt64
    /// string: its length in bytes; array: its elements; object: its members.
    @usableFromInline var count: UInt32
    @usableFromInline var tag: JSONTapeTag

    @inlinable
    init(tag: JSONTapeTag, payload: UInt64 = 0, count: UInt32 = 0) {
        self.tag = tag
        self.payload = payload
        self.count = count
    }
}

@usableFromInline
enum JSONTapeTag: UInt8 {
    case null, `true`, `false`, int, float
    /// A string whose bytes are the input's own (it had no escapes).
    case string
    /// A string that had escapes: its unescaped bytes live in the side buffer.
    case escapedString
    case array, object
}

/// A growable buffer of trivial values with no uniqueness checks on append: the parser's
/// hot path appends an entry per value. It allocates on the first append, so a buffer
/// that stays empty (the side buffer of a document without escapes) costs nothing.
struct JSONTapeBuffer<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0
    private var capacity = 0
    private let initialCapacity: Int

    init(initialCapacity: Int) {
        self.initialCapacity = Swift.max(initialCapacity, 8)
    }

    deinit {
        base?.deallocate()
    }

    /// The elements' storage; valid until the next append.
    var elements: UnsafeMutablePointer<Element>? { base }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(to: count + 1) }
        (base.unsafelyUnwrapped + count).initialize(to: element)
        count += 1
    }

    mutating func append(contentsOf source: UnsafeBufferPointer<Element>) {
        guard let start = source.baseAddress, source.count > 0 else { return }
        if count + source.count > capacity { grow(to: count + source.count) }
        (base.unsafelyUnwrapped + count).initialize(from: start, count: source.count)
        count += source.count
    }

    @inline(__always)
    subscript(index: Int) -> Element {
        get { base.unsafelyUnwrapped[index] }
        nonmutating set { base.unsafelyUnwrapped[index] = newValue }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = Swift.max(capacity * 2, initialCapacity)
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let base {
            newBase.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = newBase
        capacity = newCapacity
    }

    /// Hands the storage over (exactly `count` elements; nil when nothing was appended)
    /// and leaves this buffer empty.
    mutating func take() -> UnsafeMutableBufferPointer<Element>? {
        defer {
            base = nil
            count = 0
            capacity = 0
        }
        return base.map { UnsafeMutableBufferPointer(start: $0, count: count) }
    }
}

/// Whether `count` bytes at `a` and `b` are equal: short keys are the common case, so
/// eight bytes at a time and no call into libc.
@inlinable @inline(__always)
func jsonBytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
    var offset = 0
    while count - offset >= 8 {
        let left = UnsafeRawPointer(a + offset).loadUnaligned(as: UInt64.self)
        let right = UnsafeRawPointer(b + offset).loadUnaligned(as: UInt64.self)
        if left != right { return false }
        offset += 8
    }
    while offset < count {
        if a[offset] != b[offset] { return false }
        offset += 1
    }
    return true
}
