import Foundation
import PorticoRego

/// Points opaAuth at rego-cpp's library as PyPI's `regopy` installs it (the test command installs the
/// wheel), unless the environment names one already. Read before the first policy compiles.
enum RegoForTests {
  static let located: Void = {
    guard ProcessInfo.processInfo.environment[RegoLibrary.environmentVariable] == nil else { return }
    let path = try? Shell.run(
      #"python3 -c 'import os, regopy; print(os.path.join(os.path.dirname(regopy.__file__), "librego_shared.so"))'"#
    ).trimmingCharacters(in: .whitespacesAndNewlines)
    if let path, !path.isEmpty { setenv(RegoLibrary.environmentVariable, path, 1) }
  }()
}
