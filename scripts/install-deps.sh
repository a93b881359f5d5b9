#!/usr/bin/env bash
# Installs the system libraries Portico builds against and the clients its tests use, when they are
# missing (Debian/Ubuntu).
set -euo pipefail

packages=()
pkg-config --exists re2 2>/dev/null || packages+=(libre2-dev)
pkg-config --exists yaml-0.1 2>/dev/null || packages+=(libyaml-dev)
pkg-config --exists sqlite3 2>/dev/null || packages+=(libsqlite3-dev)
pkg-config --exists ldap 2>/dev/null || packages+=(libldap-dev)
pkg-config --exists zlib 2>/dev/null || packages+=(zlib1g-dev)
pkg-config --exists modsecurity 2>/dev/null || packages+=(libmodsecurity-dev)
pkg-config --exists libexslt 2>/dev/null || packages+=(libxslt1-dev libxml2-dev)
pkg-config --exists jemalloc 2>/dev/null || packages+=(libjemalloc-dev)
# The OWASP Core Rule Set (3.3.4) the WAF's coreRuleSet loads.
[ -d /usr/share/modsecurity-crs/rules ] || packages+=(modsecurity-crs)
command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
# Clients the tests drive the gateway with: curl (HTTP/1.1, HTTP/2, TLS), openssl (certificates, handshakes),
# h2load (many HTTP/2 streams at once).
command -v curl >/dev/null 2>&1 || packages+=(curl)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
command -v h2load >/dev/null 2>&1 || packages+=(nghttp2-client)
# The management plane's replicated store (a three-member cluster on loopback), and network namespaces for
# the multi-cluster tests.
command -v etcd >/dev/null 2>&1 || packages+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || packages+=(etcd-client)
command -v ip >/dev/null 2>&1 || packages+=(iproute2)
# Global rate limits: a Redis server, and a Redis Cluster the tests make from three of them.
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || packages+=(redis-tools)
# LDAP auth: an OpenLDAP server the tests start and seed with its client tools.
[ -x /usr/sbin/slapd ] || packages+=(slapd)
command -v ldapadd >/dev/null 2>&1 || packages+=(ldap-utils)

if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# Python packages the tests use: grpcio and grpcio-tools for the example ext_authz server
# (examples/external-auth/warehouse-authz.py compiles Protos/ with them), regopy (rego-cpp) to evaluate OPA
# policies, and oidc-provider-mock, the OpenID Connect provider the sign-in tests run (0.3.4 is the last
# release for Python 3.11).
if ! python3 -c 'import grpc, grpc_tools' 2>/dev/null; then
  echo "installing: grpcio grpcio-tools"
  python3 -m pip install --quiet grpcio grpcio-tools
fi
if ! python3 -c 'import regopy' 2>/dev/null; then
  echo "installing: regopy"
  python3 -m pip install --quiet regopy==1.5.2
fi
if ! python3 -c 'import oidc_provider_mock' 2>/dev/null; then
  echo "installing: oidc-provider-mock"
  python3 -m pip install --quiet oidc-provider-mock==0.3.4
fi
