import CJemalloc

/// The process allocates with jemalloc, not glibc's malloc: the data plane allocates and frees on several
/// threads at once (event loops, the WAF's threads, whose libmodsecurity allocates for every variable it
/// builds), where glibc takes its slower thread-safe path and jemalloc keeps a cache per thread. With it
/// the Core Rule Set served about a fifth more requests per CPU-second (docs/benchmarks.md, WAF).
enum Allocator {
  /// jemalloc's version, read through its control interface (which also keeps the library linked); nil
  /// when another allocator serves the process.
  static var version: String? {
    var text: UnsafePointer<CChar>?
    var size = MemoryLayout<UnsafePointer<CChar>?>.size
    guard mallctl("version", &text, &size, nil, 0) == 0, let text else { return nil }
    return String(cString: text)
  }

  static var description: String { version.map { "jemalloc \($0)" } ?? "the C library's malloc" }
}
