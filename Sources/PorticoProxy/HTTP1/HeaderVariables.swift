import NIOCore
import PorticoAPI

/// The request values a header manipulation may use (`%NAME%` in an appended value), for one exchange.
struct HeaderVariables {
  let request: RequestHead
  let clientAddress: String
  let requestID: RequestID
  let routeName: String
  let protocolName: String

  /// Writes `template` with its variables filled in.
  func write(_ template: HeaderValueTemplate, into buffer: inout ByteBuffer) {
    for part in template.parts {
      switch part {
      case .text(let text): buffer.writeString(text)
      case .clientAddress: buffer.writeString(clientAddress)
      // Route names come from configuration, which may be another team's RouteTable: control
      // characters are left out, so that a name cannot add a header line.
      case .routeName:
        buffer.writeString(String(routeName.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
      case .protocol: buffer.writeString(protocolName)
      case .requestField(let name):
        if name == "x-request-id" {
          requestID.write(into: &buffer)
        } else if let value = request.head.firstValue(named: name) {
          buffer.writeSubstring(value)
        }
      }
    }
  }
}
