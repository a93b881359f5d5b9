/// A cluster's registry as the multi-cluster tests use it: the Service `apps/shop` (port 8080) with one
/// endpoint, and the cluster's east-west gateway (`portico-system/east-west`, labelled `role: east-west`,
/// port `tls`). With `cluster`, written as a folder would hold it (`clusterName` and a region label); without,
/// as an agent reads it (the agent adds both).
func clusterRegistry(
  shop: (address: String, port: Int), eastWest: (address: String, port: Int), cluster: String? = nil,
  region: String? = nil
) -> String {
  let clusterName = cluster.map { ", clusterName: \($0)" } ?? ""
  let regionLabel = region.map { ", labels: {topology.kubernetes.io/region: \($0)}" } ?? ""
  return """
    apiVersion: v1
    kind: Service
    metadata: {name: shop, namespace: apps\(clusterName), labels: {app: shop}}
    spec: {ports: [{name: http, port: 8080}]}
    ---
    apiVersion: v1
    kind: Endpoints
    metadata: {name: shop, namespace: apps\(clusterName)\(regionLabel)}
    subsets: [{addresses: [{ip: \(shop.address)}], ports: [{name: http, port: \(shop.port)}]}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: east-west, namespace: portico-system\(clusterName), labels: {role: east-west}}
    spec: {ports: [{name: tls, port: 15443}]}
    ---
    apiVersion: v1
    kind: Endpoints
    metadata: {name: east-west, namespace: portico-system\(clusterName)}
    subsets: [{addresses: [{ip: \(eastWest.address)}], ports: [{name: tls, port: \(eastWest.port)}]}]
    ---

    """
}

/// The VirtualMesh `portico-system/mesh` (east-west gateways: the Services labelled `role: east-west`, port
/// `tls`; `app: shop` federated) and the VirtualDestination `apps/shop` over both clusters' `shop`, with
/// localized failover ejecting an endpoint after two errors for `baseEjectionTime`.
func meshAndDestination(baseEjectionTime: String) -> String {
  """
  apiVersion: networking.mesh.gloo.solo.io/v1
  kind: VirtualMesh
  metadata: {name: mesh, namespace: portico-system}
  spec:
    federation:
      selectors: [{destinationSelectors: [{kubeServiceMatcher: {labels: {app: shop}}}]}]
      ingressGatewaySelectors:
      - portName: tls
        destinationSelectors: [{kubeServiceMatcher: {labels: {role: east-west}}}]
  ---
  apiVersion: portico.dev/v1
  kind: VirtualDestination
  metadata: {name: shop, namespace: apps}
  spec:
    hostname: shop.global
    port: {number: 8080}
    virtualMesh: {name: mesh, namespace: portico-system}
    localized:
      destinationSelectors: [{kubeServiceMatcher: {labels: {app: shop}, clusters: [east, west]}}]
      outlierDetection: {consecutiveGatewayErrors: 2, baseEjectionTime: \(baseEjectionTime)}
  ---

  """
}
