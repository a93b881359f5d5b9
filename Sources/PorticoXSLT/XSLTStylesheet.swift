import CXSLT

/// An XSLT 1.0 stylesheet compiled once by libxslt, then applied by any number of threads at once. The
/// documents it reads and the stylesheet itself are parsed without DTDs, entities or network access, and
/// nothing it runs may read or write a file or a URL (`document()`, `xsl:import`, `exsl:document`).
public final class XSLTStylesheet: @unchecked Sendable {
  // Read-only once compiled: libxslt lets threads share a stylesheet.
  private let compiled: OpaquePointer

  /// Compiles `text`; a stylesheet libxslt compiles only with errors (an unknown `xsl:` instruction, a bad
  /// XPath expression) is refused, with libxslt's report and its line numbers.
  public init(_ text: String) throws(XSLTError) {
    var text = text
    var report: UnsafeMutablePointer<CChar>?
    let made = text.withUTF8 { bytes in
      bytes.withMemoryRebound(to: CChar.self) { portico_xslt_compile($0.baseAddress, $0.count, &report) }
    }
    guard let made else { throw XSLTError(.stylesheet, Self.take(report)) }
    compiled = made
  }

  deinit { portico_xslt_free(compiled) }

  /// The media type the stylesheet's `xsl:output` names, if any.
  public var mediaType: String? { portico_xslt_media_type(compiled).map { String(cString: $0) } }

  /// `document` transformed, serialized as the stylesheet's `xsl:output` says.
  public func apply(to document: UnsafeRawBufferPointer) throws(XSLTError) -> [UInt8] {
    var output: UnsafeMutablePointer<CChar>?
    var length = 0
    var report: UnsafeMutablePointer<CChar>?
    let failure = portico_xslt_apply(
      compiled, document.baseAddress?.assumingMemoryBound(to: CChar.self), document.count, &output, &length,
      &report)
    guard failure == Int32(PORTICO_XSLT_OK.rawValue) else {
      throw XSLTError(XSLTError.Kind(failure), Self.take(report))
    }
    defer { portico_xslt_free_text(output) }
    guard let output, length > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: output, count: length))
  }

  public func apply(to document: [UInt8]) throws(XSLTError) -> [UInt8] {
    try document.withUnsafeBytes { bytes in Result { () throws(XSLTError) in try apply(to: bytes) } }.get()
  }

  private static func take(_ report: UnsafeMutablePointer<CChar>?) -> String {
    guard let report else { return "" }
    defer { portico_xslt_free_text(report) }
    return String(cString: report)
  }
}

/// Why a stylesheet did not compile, or a document could not be transformed.
public struct XSLTError: Error, Equatable, CustomStringConvertible {
  public enum Kind: Sendable {
    /// The stylesheet does not compile.
    case stylesheet
    /// The document is not well-formed XML (or too deep).
    case malformed
    /// The document has a document type declaration, which is never read.
    case doctype
    /// The stylesheet failed while running.
    case runtime

    init(_ failure: Int32) {
      switch UInt32(failure) {
      case PORTICO_XSLT_MALFORMED.rawValue: self = .malformed
      case PORTICO_XSLT_DOCTYPE.rawValue: self = .doctype
      default: self = .runtime
      }
    }
  }

  public let kind: Kind
  /// libxml2's or libxslt's report, with line numbers where they give them.
  public let report: String

  public init(_ kind: Kind, _ report: String) {
    self.kind = kind
    self.report = report
  }

  public var description: String { report }
}
