#!/usr/bin/env python3
"""Transformations example: a SOAP 1.1 calculator service, the backend the
gateway's JSON API stands in front of (routes.yaml).

    python3 examples/transformations/soap-service.py [PORT]     # 9505 by default

It takes POSTs of SOAP envelopes, as a SOAP server does: the body must be
text/xml, and the SOAPAction header must name the operation in the body
("urn:example:calculator#Add" for Add). It answers Add and Divide of two
integers, a and b, with a SOAP envelope, and a bad request (dividing by zero,
a or b missing) with a SOAP fault and status 500. A wrong content type or
SOAPAction, or a body that is not an envelope, gets a plain-text 4xx.
"""
import http.server
import sys
import xml.etree.ElementTree as ET

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
CALC = "urn:example:calculator"


def envelope(body):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<soap:Envelope xmlns:soap="%s"><soap:Body>%s</soap:Body></soap:Envelope>'
            % (SOAP, body)).encode()


def fault(reason):
    return envelope("<soap:Fault><faultcode>soap:Client</faultcode>"
                    "<faultstring>%s</faultstring></soap:Fault>" % reason)


class Calculator(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("content-length") or 0))
        if not self.headers.get("content-type", "").startswith("text/xml"):
            return self.answer(415, b"a SOAP 1.1 request is text/xml\n")
        try:
            operation = ET.fromstring(data).find("{%s}Body" % SOAP)[0]
        except Exception:
            return self.answer(400, b"not a SOAP envelope\n")
        name = operation.tag.split("}")[-1]
        action = self.headers.get("soapaction", "")
        if name not in ("Add", "Divide") or action != '"%s#%s"' % (CALC, name):
            return self.answer(400, ("no operation for SOAPAction %s\n" % action).encode())
        try:
            a = int(operation.find("{%s}a" % CALC).text)
            b = int(operation.find("{%s}b" % CALC).text)
        except (AttributeError, TypeError, ValueError):
            return self.answer(500, fault("a and b must be integers"), "text/xml; charset=utf-8")
        if name == "Divide" and b == 0:
            return self.answer(500, fault("division by zero"), "text/xml; charset=utf-8")
        result = a + b if name == "Add" else a // b
        body = ('<c:%sResponse xmlns:c="%s"><c:result>%d</c:result></c:%sResponse>'
                % (name, CALC, result, name))
        self.answer(200, envelope(body), "text/xml; charset=utf-8")

    def answer(self, status, body, content_type="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


port = int(sys.argv[1]) if len(sys.argv) > 1 else 9505
http.server.ThreadingHTTPServer(("127.0.0.1", port), Calculator).serve_forever()
