/// Splits a YAML stream into its documents at `---` markers, keeping the line each starts on, so that each
/// can be sent on its own and its errors still point into the file.
public enum DocumentSplitter {
  /// The documents of `text` that hold anything besides comments and blank lines.
  public static func split(_ text: String, source: String) -> [ManifestDocument] {
    var documents: [ManifestDocument] = []
    var current: [String] = []
    var firstLine = 1
    var lineNumber = 0
    func finish() {
      let meaningful = current.contains { line in
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        return !trimmed.isEmpty && !trimmed.hasPrefix("#")
      }
      if meaningful {
        documents.append(
          ManifestDocument(source: source, firstLine: firstLine, text: current.joined(separator: "\n") + "\n")
        )
      }
      current = []
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      // A marker sits at column 0; block scalars are indented, so this never cuts one.
      let isMarker = line.hasPrefix("---") && (line.count == 3 || line.dropFirst(3).first!.isWhitespace)
      if isMarker || line == "..." {
        finish()
        firstLine = lineNumber
        // Content after the marker stays on its line and column.
        current.append(isMarker ? "   " + line.dropFirst(3) : "")
        continue
      }
      current.append(String(line))
    }
    finish()
    return documents
  }
}
