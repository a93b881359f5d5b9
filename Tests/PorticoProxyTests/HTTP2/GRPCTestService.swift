import GRPCCore

/// A small gRPC service for the gateway's tests, written against grpc-swift's core API: its messages are
/// UTF-8 strings, so no protobuf code generation is needed. The gateway never looks inside messages, so
/// this exercises exactly what a protobuf service would: gRPC framing, metadata, trailers and statuses.
struct EchoService: RegistrableRPCService {
  static let service = "shop.echo.v1.Echo"
  static let get = MethodDescriptor(fullyQualifiedService: service, method: "Get")
  static let update = MethodDescriptor(fullyQualifiedService: service, method: "Update")
  static let slow = MethodDescriptor(fullyQualifiedService: service, method: "Slow")
  static let fail = MethodDescriptor(fullyQualifiedService: service, method: "Fail")

  func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
    // Unary: the message back, with initial and trailing metadata of its own.
    router.registerHandler(
      forMethod: Self.get, deserializer: StringCoder(), serializer: StringCoder()
    ) { request, _ in
      var text = ""
      for try await message in request.messages { text = message }
      let caller = request.metadata[stringValues: "x-caller"].first(where: { _ in true }) ?? "-"
      return StreamingServerResponse(
        single: ServerResponse(
          message: "echo: \(text) from \(caller)", metadata: ["x-initial": "yes"],
          trailingMetadata: ["x-trailer": "done"]))
    }
    // Bidirectional: every message is answered as it arrives.
    router.registerHandler(
      forMethod: Self.update, deserializer: StringCoder(), serializer: StringCoder()
    ) { request, _ in
      StreamingServerResponse { writer in
        for try await message in request.messages { try await writer.write("echo: \(message)") }
        return ["x-count": "done"]
      }
    }
    // Takes its time: deadlines run out first.
    router.registerHandler(
      forMethod: Self.slow, deserializer: StringCoder(), serializer: StringCoder()
    ) { request, _ in
      for try await _ in request.messages {}
      try await Task.sleep(for: .seconds(3))
      return StreamingServerResponse(single: ServerResponse(message: "late"))
    }
    // Fails with a status of its own, which must reach the caller unchanged.
    router.registerHandler(
      forMethod: Self.fail, deserializer: StringCoder(), serializer: StringCoder()
    ) { request, _ in
      for try await _ in request.messages {}
      throw RPCError(code: .notFound, message: "no such thing: ünïcode")
    }
  }
}

/// Messages as UTF-8 strings.
struct StringCoder: MessageSerializer, MessageDeserializer {
  func serialize<Bytes: GRPCContiguousBytes>(_ message: String) throws -> Bytes {
    Bytes(Array(message.utf8))
  }

  func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> String {
    serializedMessageBytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
  }
}
