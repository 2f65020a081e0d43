#if canImport(Glibc)
import Glibc
#endif

/// Hands the allocator's free pages back to the kernel now and then.
///
/// glibc returns freed memory to the kernel only from the top of its heaps; what is freed
/// in the middle stays resident. Under a long mixed load the daemon's heap ended up mostly
/// free (32.8 of 45.4 MB in the 64 x 10,000 soak), and its resident size crept up round
/// after round with it. malloc_trim(0) releases those pages (anonymous RSS 20.9 -> 11.1 MB
/// in that soak; docs/BENCHMARKS.md, "Memory under load"); they come back as zero pages
/// when reused. It walks the free lists for a few milliseconds, so it runs on the
/// daemon's slow housekeeping beat, not per call.
struct FreeMemoryRelease {
    private typealias Trim = @convention(c) (Int) -> Int32
    /// The Glibc module does not import malloc.h; nil on a libc without malloc_trim.
    private let trim: Trim? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim").map {
        unsafeBitCast($0, to: Trim.self)
    }
    let interval: Duration
    private var last = ContinuousClock.now

    init(every interval: Duration) {
        self.interval = interval
    }

    /// Releases the free pages when `interval` has passed since the last time.
    mutating func releaseIfDue() {
        guard let trim, ContinuousClock.now - last >= interval else { return }
        _ = trim(0)
        last = .now
    }
}
