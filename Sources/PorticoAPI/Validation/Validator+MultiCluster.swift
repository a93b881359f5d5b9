/// VirtualDestination and VirtualMesh: one failover mode, sane ports and durations, and every field Portico
/// does not enforce refused at its place (fail closed: an access policy is never silently skipped).
extension Validator {
  mutating func check(virtualDestination spec: VirtualDestinationSpec) {
    if spec.hostname.isEmpty { error(["spec", "hostname"], "hostname must not be empty") }
    if spec.port.number == 0 || spec.port.number > 65535 {
      error(["spec", "port", "number"], "must be 1 to 65535")
    }
    if let target = spec.port.targetNumber, target == 0 || target > 65535 {
      error(["spec", "port", "targetNumber"], "must be 1 to 65535")
    }
    if spec.port.targetName != nil && spec.port.targetNumber != nil {
      error(["spec", "port"], "give targetName or targetNumber, not both")
    }
    if let value = spec.port.protocol, !["HTTP", "HTTP2", "GRPC"].contains(value.uppercased()) {
      error(["spec", "port", "protocol"], "Portico forwards HTTP, HTTP2 and GRPC; '\(value)' is not one")
    }
    requireOne(
      (spec.static == nil ? 0 : 1) + (spec.localized == nil ? 0 : 1), of: ["static", "localized"],
      at: ["spec"])
    guard let localized = spec.localized else { return }
    let path: FieldPath = ["spec", "localized"]
    if (localized.destinationSelectors ?? []).isEmpty {
      error(path.appending("destinationSelectors"), "select at least one Service")
    }
    for (index, directive) in (localized.failoverDirectives ?? []).enumerated() {
      if directive.from?.subZone != nil || (directive.to ?? []).contains(where: { $0.subZone != nil }) {
        error(
          path.appending("failoverDirectives").appending(index),
          "subZone is not enforced by Portico (localities are region and zone)")
      }
    }
    if let outlier = localized.outlierDetection {
      let at = path.appending("outlierDetection")
      if outlier.interval != nil {
        error(
          at.appending("interval"),
          "interval is not enforced: Portico judges every outcome as it happens; remove it")
      }
      check(outlier.baseEjectionTime, at: at.appending("baseEjectionTime"), minimum: 1_000_000)
      if let percent = outlier.maxEjectionPercent, percent > 100 {
        error(at.appending("maxEjectionPercent"), "must be 0 to 100")
      }
    }
  }

  mutating func check(virtualMesh spec: VirtualMeshSpec) {
    if let policy = spec.globalAccessPolicy, policy.uppercased() == "ENABLED" {
      error(
        ["spec", "globalAccessPolicy"],
        "access policies are not enforced by Portico yet; traffic would be allowed that this denies")
    }
    if spec.mtlsConfig?.autoRestartPods == true {
      error(["spec", "mtlsConfig", "autoRestartPods"], "Portico restarts no pods; remove it")
    }
    let federation: FieldPath = ["spec", "federation"]
    if spec.federation?.tcpKeepalive != nil {
      error(federation.appending("tcpKeepalive"), "not enforced by Portico yet")
    }
    if spec.federation?.tlsEnforcementSettings != nil {
      error(federation.appending("tlsEnforcementSettings"), "not enforced by Portico yet")
    }
    if let suffix = spec.federation?.hostnameSuffix, !Self.isHostnameSuffix(suffix) {
      error(
        federation.appending("hostnameSuffix"),
        "'\(suffix)' is not a DNS suffix: lowercase letters, digits and '-', in labels joined by '.'")
    }
  }
}

extension Validator {
  /// Lowercase DNS labels joined by dots, as the last part of a federated name (`global`, `mesh.internal`).
  static func isHostnameSuffix(_ text: String) -> Bool {
    let labels = text.split(separator: ".", omittingEmptySubsequences: false)
    return !text.isEmpty && text.count <= 200
      && labels.allSatisfy { label in
        !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
          && label.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
      }
  }
}
