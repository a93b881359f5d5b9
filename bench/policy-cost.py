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

Besides req/s, each figure has the server's CPU time per request (every thread and worker it has): requests
per CPU-second is the fair comparison when a server spreads work over threads, as Portico does with WAF rules
(`--waf-threads 1` here, on the same CPU as its event loop).

wrk (on CPU 0, with the upstream nginx answering "ok" and Redis) drives the load, as bench/run.py's plain
scenario; the variants take turns, round after round, and each figure is the median of its rounds.

  bench/policy-cost.py [--variants none,apikey,...] [--rounds 3] [--duration 5] [--connections 50]
                       [--portico PATH]
"""
import argparse, base64, hashlib, hmac, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request

from loopback import (CRS_RULES, CRS_SETUP, ENGINE_SETTINGS, cpu_seconds, free_port, modsecurity_nginx_conf,
                      portico_manifests, upstream_nginx_conf)

VARIANTS = ["none", "filter-layer", "ratelimit-local", "ratelimit-redis", "apikey", "jwt", "waf-off", "waf-crs",
            "nginx-crs"]

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
            file.write(upstream_nginx_conf(nginx, upstream))
        processes.append(subprocess.Popen(["nginx", "-p", nginx, "-e", f"{nginx}/error.log", "-c",
                                           f"{nginx}/nginx.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes.append(subprocess.Popen(["redis-server", "--port", str(redis), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no"], stdout=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{upstream}/")
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
                    key = ["-H", f"api-key: {BENCH_KEY}", "-H", f"authorization: Bearer {bench_token()}",
                           "-H", "Host: bench.test", "-H", "Accept: */*"]
                    subprocess.run(["wrk", "-t1", f"-c{arguments.connections}", "-d1s", *key,
                                    f"http://127.0.0.1:{port}/"], capture_output=True)  # warm-up
                    cpu_before = cpu_seconds(gateway.pid)
                    output = subprocess.run(["wrk", "-t1", f"-c{arguments.connections}", f"-d{arguments.duration}s",
                                             *key, f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
                    cpu = cpu_seconds(gateway.pid) - cpu_before
                    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
                    served = int(re.search(r"(\d+) requests in", output).group(1))
                    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
                    if errors:
                        sys.exit(f"{variant}: {errors.group(1)} responses were not 2xx")
                    metrics = "" if variant == "nginx-crs" else urllib.request.urlopen(
                        f"http://127.0.0.1:{admin}/stats/prometheus").read().decode()
                    if variant not in ("none", "filter-layer", "waf-off", "nginx-crs") \
                            and 'outcome="allowed"' not in metrics:
                        sys.exit(f"{variant}: the policy counted nothing")
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
