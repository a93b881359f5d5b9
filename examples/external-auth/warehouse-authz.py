#!/usr/bin/env python3
"""External auth example: the warehouses' auth server, which the gateway asks
about every request to /warehouse over gRPC (passThroughAuth.grpc in auth.yaml).

    python3 examples/external-auth/warehouse-authz.py [PORT]     # 9504 by default

It is an ordinary ext_authz server, as written for Envoy: it answers
envoy.service.auth.v3.Authorization/Check, with the code it compiles at start
from the protos in Protos/ (it needs grpcio and grpcio-tools).

It decides by the bearer token: a known warehouse's token passes, the
warehouse's name goes upstream in x-warehouse, the Authorization header does
not, and the client's response gets x-checked-by; a closed warehouse is refused
with 403, a reason and a body; anything else gets 401. A real server would look
tokens up in its own store.
"""
import concurrent.futures
import os
import sys
import tempfile

import grpc
import grpc_tools
from grpc_tools import protoc

WAREHOUSES = {"wh-token-north": "north", "wh-token-south": "south"}
CLOSED = {"south"}

protos = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Protos")
with tempfile.TemporaryDirectory() as generated:
    files = [
        os.path.relpath(os.path.join(folder, name), protos)
        for top in ("envoy", "google")
        for folder, _, names in os.walk(os.path.join(protos, top))
        for name in names
        if name.endswith(".proto")
    ]
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    if protoc.main(["protoc", "-I" + protos, "-I" + well_known, "--python_out=" + generated,
                    "--grpc_python_out=" + generated] + files) != 0:
        sys.exit("could not compile the protos in " + protos)
    # Regular packages, so that another package named envoy cannot hide them.
    for folder, _, _ in os.walk(os.path.join(generated, "envoy")):
        open(os.path.join(folder, "__init__.py"), "w").close()
    sys.path.insert(0, generated)
    from envoy.config.core.v3 import base_pb2
    from envoy.service.auth.v3 import external_auth_pb2 as authz
    from envoy.service.auth.v3 import external_auth_pb2_grpc as authz_grpc
    from envoy.type.v3 import http_status_pb2
    from google.rpc import status_pb2


def header(name, value):
    return base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=name, value=value))


def denied(code, status, headers, body=""):
    return authz.CheckResponse(
        status=status_pb2.Status(code=code),
        denied_response=authz.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=status), headers=headers, body=body))


class Warehouses(authz_grpc.AuthorizationServicer):
    def Check(self, request, context):
        headers = request.attributes.request.http.headers
        token = headers.get("authorization", "").removeprefix("Bearer ")
        warehouse = WAREHOUSES.get(token)
        if warehouse is None:  # gRPC code 16: UNAUTHENTICATED
            return denied(16, 401, [header("www-authenticate", 'Bearer realm="warehouse"')])
        if warehouse in CLOSED:  # gRPC code 7: PERMISSION_DENIED
            return denied(7, 403, [header("x-reason", "warehouse closed")],
                          f"the {warehouse} warehouse is closed\n")
        return authz.CheckResponse(
            status=status_pb2.Status(code=0),
            ok_response=authz.OkHttpResponse(
                headers=[header("x-warehouse", warehouse)],
                headers_to_remove=["authorization"],
                response_headers_to_add=[header("x-checked-by", "warehouse-authz")]))


port = int(sys.argv[1]) if len(sys.argv) > 1 else 9504
server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=8))
authz_grpc.add_AuthorizationServicer_to_server(Warehouses(), server)
server.add_insecure_port(f"127.0.0.1:{port}")
server.start()
server.wait_for_termination()
