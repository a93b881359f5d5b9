#!/usr/bin/env python3
"""External auth example: the partners' own auth service, which the gateway asks
about every request to /partners (passThroughAuth in auth.yaml).

    python3 examples/external-auth/partner-auth.py [PORT]     # 9503 by default

It decides by the bearer token: a known partner's token passes, and the partner's
name goes back in x-partner (which the gateway sends upstream); a suspended
partner is refused with 403 and a reason the client may see; anything else gets
401. A real service would look tokens up in its own store.
"""
import http.server
import sys

PARTNERS = {"partner-token-acme": "acme", "partner-token-globex": "globex"}
SUSPENDED = {"globex"}


class Decision(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        token = self.headers.get("authorization", "").removeprefix("Bearer ")
        partner = PARTNERS.get(token)
        if partner is None:
            return self.answer(401, [("www-authenticate", 'Bearer realm="partners"')])
        if partner in SUSPENDED:
            return self.answer(403, [("x-reason", "partner suspended")])
        self.answer(200, [("x-partner", partner)])

    def answer(self, status, headers):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


port = int(sys.argv[1]) if len(sys.argv) > 1 else 9503
http.server.ThreadingHTTPServer(("127.0.0.1", port), Decision).serve_forever()
