#!/usr/bin/env python3
"""What a policy that lets every request through costs: the same route served by one `portico gateway` (one
event loop, on CPU 1) without a policy, and with each policy in turn:

  filter-layer     a fault injection that never fires: what any filtered route pays before its filter's work
  ratelimit-local  a per-client-address rate limit, never hit, counted in the gateway
  ratelimit-redis  the same limit counted in Redis on loopback
  apikey           an API key checked against 1,000 keys kept in Secrets (apiKeyAuth)
  jwt              a bearer token (HS256) checked against a local JWKS, with a claim sent upstream
  waf-off          a route without WAF on a gateway whose other route runs the Core Rule Set
  waf-crs          the OWASP Core Rule Set (Debian's 3.3.4, its crs-setup.conf: paranoia level 1, anomaly
                   scoring, blocking) on the route
  nginx-crs        not Portico: nginx (one worker, on CPU 1) with libmodsecurity3 and the same rules, in front
                   of the same upstream, as ModSecurity's own connector runs them
  none-post        no policy, as none, but a SOAP order of about 4 KB is POSTed to /orders, where the upstream
                   answers with a confirmation of about 4 KB (XML): the reference of the two variants below
  xslt             the same POST to a route whose transformations rewrite the order (XSLT, into the upstream's
                   own XML) and the confirmation (XSLT, into JSON): both bodies transformed, every request
  xslt-off         the same POST and answer as none-post, to a route without transformations on the gateway of
                   xslt (its other route transforms)

Besides req/s, each figure has the server's CPU time per request (every thread and worker it has): requests
per CPU-second is the fair comparison when a server spreads work over threads, as Portico does with WAF rules
(`--waf-threads 1` here, on the same CPU as its event loop).

wrk (on CPU 0, with the upstream nginx answering "ok" and Redis) drives the load, as bench/run.py's plain
scenario; the variants take turns, round after round, and each figure is the median of its rounds. The POST
variants (none-post is run whenever one of the others is) are compared with none-post: wrk sends their body
from a Lua script, and the upstream tells in its answer the content type and framing of the body it received,
which the script checks once per variant before measuring.

  bench/policy-cost.py [--variants none,apikey,...] [--rounds 3] [--duration 5] [--connections 50]
                       [--portico PATH]
"""
import argparse, base64, hashlib, hmac, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request

from loopback import (CRS_RULES, CRS_SETUP, ENGINE_SETTINGS, cpu_seconds, free_port, modsecurity_nginx_conf,
                      portico_manifests, upstream_nginx_conf)

VARIANTS = ["none", "filter-layer", "ratelimit-local", "ratelimit-redis", "apikey", "jwt", "waf-off", "waf-crs",
            "nginx-crs", "none-post", "xslt", "xslt-off"]
# The variants that POST the order, and the path each sends it to.
POST_PATHS = {"none-post": "/orders", "xslt-off": "/orders", "xslt": "/transformed/orders"}

API_KEYS = 1000
BENCH_KEY = "bench-key-500"
JWT_SECRET = b"portico-bench-secret-of-32-bytes"


def base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bench_token():
    header = base64url(json.dumps({"alg": "HS256", "kid": "bench", "typ": "JWT"}).encode())
    claims = base64url(json.dumps({"iss": "https://idp.bench", "sub": "bench-user", "email": "bench@example.com",
                                   "exp": int(time.time()) + 3600}).encode())
    signature = hmac.new(JWT_SECRET, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{base64url(signature)}"


SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ORDERS = "urn:example:orders"
ORDER_LINES = 16
ORDER_CONTENT_TYPE = "text/xml; charset=utf-8"


def sku(line):
    return f"SKU-{line * 7919 % 100000:05d}"


def order_document():
    """A SOAP 1.1 SubmitOrder of ORDER_LINES lines, about 4 KB, the same every run."""
    lines = "".join(f"""
        <ord:Line number="{n}"><ord:Sku>{sku(n)}</ord:Sku><ord:Description>Widget, size {n % 7 + 1}, \
colour {("red", "green", "blue", "black")[n % 4]}</ord:Description><ord:Quantity>{n % 5 + 1}</ord:Quantity>\
<ord:UnitPrice currency="EUR">{n * 37 % 200 + 0.99:.2f}</ord:UnitPrice></ord:Line>"""
                    for n in range(1, ORDER_LINES + 1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{SOAP}" xmlns:ord="{ORDERS}">
  <soap:Header><ord:RequestId>bench-0001</ord:RequestId></soap:Header>
  <soap:Body>
    <ord:SubmitOrder>
      <ord:OrderNumber>PO-2026-000042</ord:OrderNumber>
      <ord:Customer><ord:Id>C-10042</ord:Id><ord:Name>Example Trading Ltd</ord:Name>\
<ord:Email>orders@example.com</ord:Email></ord:Customer>
      <ord:ShipTo><ord:Street>1 Harbour Road</ord:Street><ord:City>Portsmouth</ord:City>\
<ord:PostalCode>PO1 1AA</ord:PostalCode><ord:Country>GB</ord:Country></ord:ShipTo>
      <ord:Lines>{lines}
      </ord:Lines>
    </ord:SubmitOrder>
  </soap:Body>
</soap:Envelope>
"""


def confirmation_document():
    """The upstream's answer to an order, about 4 KB of XML; it tells the content type and framing of the body
    it received (nginx variables: the length is empty for a chunked body)."""
    lines = "".join(f"""
      <ord:Line number="{n}"><ord:Sku>{sku(n)}</ord:Sku><ord:Status>{"BACKORDERED" if n % 6 == 0 else "RESERVED"}\
</ord:Status><ord:Warehouse>WH-{n % 3 + 1}</ord:Warehouse><ord:ShipDate>2026-12-{n % 20 + 10}</ord:ShipDate>\
<ord:Carrier>Parcelforce</ord:Carrier></ord:Line>""" for n in range(1, ORDER_LINES + 1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{SOAP}" xmlns:ord="{ORDERS}">
  <soap:Body>
    <ord:SubmitOrderResponse>
      <ord:Received contentType="${{http_content_type}}" bytes="${{content_length}}" \
transferEncoding="${{http_transfer_encoding}}"/>
      <ord:OrderNumber>PO-2026-000042</ord:OrderNumber>
      <ord:Status>ACCEPTED</ord:Status>
      <ord:Lines>{lines}
      </ord:Lines>
    </ord:SubmitOrderResponse>
  </soap:Body>
</soap:Envelope>
"""


def orders_location():
    """nginx answering POSTs to /orders and /transformed/orders with the confirmation. A quoted string may not
    be longer than 4 KB in nginx's configuration: the answer is set in parts."""
    parts = [""]
    for line in confirmation_document().replace("\\", "\\\\").replace('"', '\\"').splitlines(keepends=True):
        if len(parts[-1]) + len(line) > 2000:
            parts.append("")
        parts[-1] += line
    sets = "".join(f'set $confirmation{index} "{part}";\n' for index, part in enumerate(parts))
    joined = "".join(f"$confirmation{index}" for index in range(len(parts)))
    return f"""location ~ ^(/transformed)?/orders$ {{ default_type text/xml;
{sets}return 200 "{joined}"; }}
"""


# The order, as the upstream's own XML.
REQUEST_XSLT = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ord="urn:example:orders">
  <xsl:output method="xml" omit-xml-declaration="yes"/>
  <xsl:template match="/">
    <xsl:apply-templates select="soap:Envelope/soap:Body/ord:SubmitOrder"/>
  </xsl:template>
  <xsl:template match="ord:SubmitOrder">
    <purchaseOrder number="{ord:OrderNumber}" requestId="{/soap:Envelope/soap:Header/ord:RequestId}">
      <buyer id="{ord:Customer/ord:Id}">
        <name><xsl:value-of select="ord:Customer/ord:Name"/></name>
        <email><xsl:value-of select="ord:Customer/ord:Email"/></email>
      </buyer>
      <shipping country="{ord:ShipTo/ord:Country}" postcode="{ord:ShipTo/ord:PostalCode}">
        <xsl:value-of select="ord:ShipTo/ord:Street"/>, <xsl:value-of select="ord:ShipTo/ord:City"/>
      </shipping>
      <items count="{count(ord:Lines/ord:Line)}" quantity="{sum(ord:Lines/ord:Line/ord:Quantity)}">
        <xsl:for-each select="ord:Lines/ord:Line">
          <item sku="{ord:Sku}" qty="{ord:Quantity}" price="{ord:UnitPrice}" currency="{ord:UnitPrice/@currency}">
            <xsl:value-of select="ord:Description"/>
          </item>
        </xsl:for-each>
      </items>
    </purchaseOrder>
  </xsl:template>
</xsl:stylesheet>"""

# The confirmation, as JSON for the client.
RESPONSE_XSLT = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ord="urn:example:orders">
  <xsl:output method="text"/>
  <xsl:template match="/">
    <xsl:apply-templates select="soap:Envelope/soap:Body/ord:SubmitOrderResponse"/>
  </xsl:template>
  <xsl:template match="ord:SubmitOrderResponse">
    <xsl:text>{"order": "</xsl:text><xsl:value-of select="ord:OrderNumber"/>
    <xsl:text>", "status": "</xsl:text><xsl:value-of select="ord:Status"/>
    <xsl:text>", "received": {"contentType": "</xsl:text><xsl:value-of select="ord:Received/@contentType"/>
    <xsl:text>", "bytes": "</xsl:text><xsl:value-of select="ord:Received/@bytes"/>
    <xsl:text>", "transferEncoding": "</xsl:text><xsl:value-of select="ord:Received/@transferEncoding"/>
    <xsl:text>"}, "lines": [</xsl:text>
    <xsl:for-each select="ord:Lines/ord:Line">
      <xsl:if test="position() != 1">, </xsl:if>
      <xsl:text>{"line": </xsl:text><xsl:value-of select="@number"/>
      <xsl:text>, "sku": "</xsl:text><xsl:value-of select="ord:Sku"/>
      <xsl:text>", "status": "</xsl:text><xsl:value-of select="ord:Status"/>
      <xsl:text>", "warehouse": "</xsl:text><xsl:value-of select="ord:Warehouse"/>
      <xsl:text>", "shipDate": "</xsl:text><xsl:value-of select="ord:ShipDate"/>
      <xsl:text>"}</xsl:text>
    </xsl:for-each>
    <xsl:text>]}</xsl:text>
  </xsl:template>
</xsl:stylesheet>"""


def indented(text, spaces):
    return "\n".join(" " * spaces + line for line in text.split("\n"))


def post_script(path):
    """wrk's Lua script for the POST variants."""
    with open(path, "w") as file:
        file.write(f"""wrk.method = "POST"
wrk.body = [==[{order_document()}]==]
wrk.headers["Content-Type"] = "{ORDER_CONTENT_TYPE}"
wrk.headers["SOAPAction"] = '"{ORDERS}#SubmitOrder"'
""")


def check_order_answer(variant, url, headers):
    """One POST before measuring: the answer must be the upstream's confirmation of the order as sent, or, for
    xslt, that confirmation transformed into JSON, of the order as transformed."""
    body = order_document().encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        **headers, "Content-Type": ORDER_CONTENT_TYPE, "SOAPAction": f'"{ORDERS}#SubmitOrder"'})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, content_type, answer = response.status, response.headers.get("content-type"), response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{variant}: {url} answered {error.code}: {error.read()[:500]!r}")
    if variant != "xslt":
        expected = f'<ord:Received contentType="{ORDER_CONTENT_TYPE}" bytes="{len(body)}" transferEncoding=""/>'
        if status != 200 or expected.encode() not in answer or not answer.startswith(b"<?xml"):
            sys.exit(f"{variant}: not the upstream's confirmation of the order as sent ({status}, {content_type}): "
                     f"{answer[:500]!r}")
        return
    try:
        confirmation = json.loads(answer)
    except ValueError:
        sys.exit(f"xslt: the answer is not the transformed confirmation ({status}, {content_type}): {answer[:500]!r}")
    # The transformed order goes upstream with its length, or chunked (on a connection the gateway reuses).
    received = confirmation.get("received", {})
    framed = (received.get("bytes", "").isdigit() and int(received["bytes"]) not in (0, len(body))) \
        or (received.get("bytes") == "" and received.get("transferEncoding") == "chunked")
    if status != 200 or content_type != "application/json" or confirmation.get("order") != "PO-2026-000042" \
            or len(confirmation.get("lines", [])) != ORDER_LINES or received.get("contentType") != "application/xml" \
            or not framed:
        sys.exit(f"xslt: the order or its confirmation was not transformed ({status}, {content_type}): "
                 f"{answer[:500]!r}")


def config(upstream, variant):
    options = ""
    extra = ""
    other_routes = ""
    if variant == "waf-crs":
        options = """
    options: {waf: {coreRuleSet: {}}}"""
    elif variant == "waf-off":
        other_routes = """
  - matchers: [{uri: {prefix: /inspected}}]
    options: {waf: {coreRuleSet: {}}}
    routeAction: {destinations: [{staticDestination: {name: upstream}}]}"""
    elif variant in ("xslt", "xslt-off"):
        # One configuration for both: xslt posts to /transformed, xslt-off to the last route.
        other_routes = f"""
  - matchers: [{{uri: {{prefix: /transformed}}}}]
    options:
      transformations:
        request:
        - transformation:
            xsltTransformation:
              setContentType: application/xml
              xslt: |
{indented(REQUEST_XSLT, 16)}
        response:
        - transformation:
            xsltTransformation:
              setContentType: application/json
              xslt: |
{indented(RESPONSE_XSLT, 16)}
    routeAction: {{destinations: [{{staticDestination: {{name: upstream}}}}]}}"""
    elif variant == "filter-layer":
        options = """
    options: {faultInjection: {abort: {httpStatus: 503}, percentage: 0}}"""
    elif variant.startswith("ratelimit"):
        options = """
    options:
      rateLimit:
        ratelimitServerConfigSelector: {}
        raw: {rateLimits: [{actions: [{remoteAddress: {}}]}]}"""
        extra = """---
apiVersion: portico.dev/v1
kind: RateLimitServerConfig
metadata: {name: never-hit, namespace: bench}
spec:
  raw:
    descriptors:
    - {key: remote_address, rateLimit: {unit: SECOND, requestsPerUnit: 4000000000}}
"""
    elif variant == "jwt":
        options = """
    options: {extauth: {configRef: {name: tokens}}}"""
        jwks = json.dumps({"keys": [{"kty": "oct", "kid": "bench", "alg": "HS256", "k": base64url(JWT_SECRET)}]})
        extra = f"""---
apiVersion: enterprise.gloo.solo.io/v1
kind: AuthConfig
metadata: {{name: tokens, namespace: bench}}
spec:
  configs:
  - jwt:
      providers:
        bench:
          issuer: https://idp.bench
          jwks: {{local: {{key: '{jwks}'}}}}
          claimsToHeaders: [{{claim: email, header: x-email}}]
"""
    elif variant == "apikey":
        options = """
    options: {extauth: {configRef: {name: keys}}}"""
        extra = """---
apiVersion: enterprise.gloo.solo.io/v1
kind: AuthConfig
metadata: {name: keys, namespace: bench}
spec: {configs: [{apiKeyAuth: {labelSelector: {bench: "yes"}}}]}
""" + "".join(f"""---
apiVersion: v1
kind: Secret
type: extauth.solo.io/apikey
metadata: {{name: user-{index}, namespace: bench, labels: {{bench: "yes"}}}}
stringData: {{api-key: bench-key-{index}}}
""" for index in range(API_KEYS))
    return portico_manifests(upstream, route_options=options, other_routes=other_routes, extra=extra)


def modsecurity_nginx(folder, port, upstream):
    """nginx with one worker and libmodsecurity3 running the same engine settings and Core Rule Set as
    Portico's waf-crs route; returns its argv."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "modsecurity.conf"), "w") as file:
        file.write(ENGINE_SETTINGS + f"Include {CRS_SETUP}\nInclude {CRS_RULES}/*.conf\n")
    with open(os.path.join(folder, "nginx.conf"), "w") as file:
        file.write(modsecurity_nginx_conf(folder, port, upstream, os.path.join(folder, "modsecurity.conf")))
    return ["nginx", "-p", folder, "-e", f"{folder}/error.log", "-c", f"{folder}/nginx.conf"]


def wait_http(url, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return  # it answers (401 without a key)
        except Exception:
            time.sleep(0.05)
    sys.exit(f"{url} did not answer")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--portico", default=".build/release/portico")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated, from " + ", ".join(VARIANTS) + " (none is always run)")
    arguments = parser.parse_args()
    variants = ["none"] + [v for v in arguments.variants.split(",") if v in VARIANTS and v != "none"]
    if any(v in POST_PATHS for v in variants) and "none-post" not in variants:
        variants.insert(1, "none-post")
    unknown = [v for v in arguments.variants.split(",") if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variants: {', '.join(unknown)}")
    portico = os.path.abspath(arguments.portico)
    pin = len(os.sched_getaffinity(0)) >= 2 and {0, 1} <= os.sched_getaffinity(0)
    if pin:
        os.sched_setaffinity(0, {0})  # wrk, the upstream and Redis inherit CPU 0
    work = tempfile.mkdtemp(prefix="portico-policy-bench-")
    processes = []
    try:
        upstream, redis = free_port(), free_port()
        nginx = os.path.join(work, "nginx")
        os.makedirs(nginx)
        with open(os.path.join(nginx, "nginx.conf"), "w") as file:
            file.write(upstream_nginx_conf(nginx, upstream, locations=orders_location()))
        processes.append(subprocess.Popen(["nginx", "-p", nginx, "-e", f"{nginx}/error.log", "-c",
                                           f"{nginx}/nginx.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes.append(subprocess.Popen(["redis-server", "--port", str(redis), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no"], stdout=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{upstream}/")
        post = os.path.join(work, "post.lua")
        post_script(post)
        results = {variant: [] for variant in variants}
        cpu_per_request = {variant: [] for variant in variants}
        for round_number in range(arguments.rounds):
            for variant in variants:
                folder = os.path.join(work, variant)
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, "config.yaml"), "w") as file:
                    file.write(config(upstream, variant))
                port, admin = free_port(), free_port()
                argv = modsecurity_nginx(folder, port, upstream) if variant == "nginx-crs" else [portico, "gateway", "--config", folder, "--name", "bench", "--namespace", "bench", "--label",
                        "gateway=bench", "--port", f"http={port}", "--admin", f"127.0.0.1:{admin}", "--threads", "1",
                        "--access-log", "off", "--waf-threads", "1"]
                if variant == "ratelimit-redis":
                    argv += ["--rate-limit-store", f"redis://127.0.0.1:{redis}"]
                gateway = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           preexec_fn=(lambda: os.sched_setaffinity(0, {1})) if pin else None)
                try:
                    wait_http(f"http://127.0.0.1:{port}/")
                    # Every variant sends the same request, credentials included: the baseline pays for
                    # their bytes too, so the difference is the checks' own cost.
                    # A host name, as browsers send: the Core Rule Set scores a numeric Host (rule 920350).
                    token = bench_token()
                    key = ["-H", f"api-key: {BENCH_KEY}", "-H", f"authorization: Bearer {token}",
                           "-H", "Host: bench.test", "-H", "Accept: */*"]
                    url = f"http://127.0.0.1:{port}{POST_PATHS.get(variant, '/')}"
                    if variant in POST_PATHS:
                        check_order_answer(variant, url, {"api-key": BENCH_KEY, "authorization": f"Bearer {token}",
                                                          "Host": "bench.test", "Accept": "*/*"})
                        key += ["-s", post]
                    subprocess.run(["wrk", "-t1", f"-c{arguments.connections}", "-d1s", *key, url],
                                   capture_output=True)  # warm-up
                    cpu_before = cpu_seconds(gateway.pid)
                    output = subprocess.run(["wrk", "-t1", f"-c{arguments.connections}", f"-d{arguments.duration}s",
                                             *key, url], capture_output=True, text=True).stdout
                    cpu = cpu_seconds(gateway.pid) - cpu_before
                    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
                    served = int(re.search(r"(\d+) requests in", output).group(1))
                    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
                    if errors:
                        sys.exit(f"{variant}: {errors.group(1)} responses were not 2xx")
                    metrics = "" if variant == "nginx-crs" else urllib.request.urlopen(
                        f"http://127.0.0.1:{admin}/stats/prometheus").read().decode()
                    if variant not in ("none", "filter-layer", "waf-off", "nginx-crs", *POST_PATHS) \
                            and 'outcome="allowed"' not in metrics:
                        sys.exit(f"{variant}: the policy counted nothing")
                    # Every request of the run, and of its warm-up and check, transformed both ways; none failed.
                    transformed = {direction: int(count) for direction, count in re.findall(
                        r'portico_transformations_total\{[^}]*direction="(\w+)",outcome="transformed"\} (\d+)',
                        metrics)}
                    if variant == "xslt" and min(transformed.get(d, 0) for d in ("request", "response")) < served:
                        sys.exit(f"xslt: {transformed} transformed for {served} requests")
                    if variant == "xslt-off" and any(transformed.values()):
                        sys.exit(f"xslt-off: {transformed} transformed on the route without transformations")
                    if re.search(r'portico_transformations_total\{[^}]*outcome="failed"\} [1-9]', metrics):
                        sys.exit(f"{variant}: a transformation failed")
                    if "portico_ratelimit_store_errors_total 0" not in metrics and variant == "ratelimit-redis":
                        sys.exit("ratelimit-redis: the store failed during the run")
                    results[variant].append(rate)
                    cpu_per_request[variant].append(cpu / served * 1e6)
                finally:
                    # nginx's master stops its worker on SIGTERM; killed outright it would leave it running.
                    gateway.send_signal(signal.SIGTERM if variant == "nginx-crs" else signal.SIGKILL)
                    gateway.wait()
        medians = {variant: statistics.median(rates) for variant, rates in results.items()}
        cpu = {variant: statistics.median(values) for variant, values in cpu_per_request.items()}
        print(json.dumps({
            "connections": arguments.connections, "duration_s": arguments.duration, "rounds": arguments.rounds,
            "pinned": pin, "requests_per_second": {v: round(m) for v, m in medians.items()},
            "ratio_to_none": {v: round(medians[v] / medians["none"], 3) for v in variants},
            "rounds_requests_per_second": {v: [round(r) for r in rates] for v, rates in results.items()},
            # The gateway's own CPU time per request (user + system, from /proc): unlike req/s, it does not
            # move when other work on the machine takes the gateway's core for a while.
            "gateway_cpu_us_per_request": {v: round(c, 2) for v, c in cpu.items()},
            "cpu_ratio_none_to_variant": {v: round(cpu["none"] / cpu[v], 3) for v in variants},
            "requests_per_cpu_second": {v: round(1e6 / c) for v, c in cpu.items()},
            # The POST variants against the same POST without a policy.
            **({"ratio_to_none_post": {v: round(medians[v] / medians["none-post"], 3) for v in variants
                                       if v in POST_PATHS},
                "cpu_ratio_none_post_to_variant": {v: round(cpu["none-post"] / cpu[v], 3) for v in variants
                                                   if v in POST_PATHS},
                "order_bytes": len(order_document())}
               if "none-post" in variants else {}),
        }, indent=1))
    finally:
        # SIGTERM: nginx's master stops its workers on it; killed outright, it would leave them running.
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
