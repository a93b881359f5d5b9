#!/usr/bin/env python3
"""What a rate limit that is never hit costs: the same route served by one `portico gateway` (one event loop,
on CPU 1) without a limit, with a per-client-address limit counted in the gateway, and with the same limit
counted in Redis on loopback. wrk (on CPU 0, with the upstream nginx answering "ok" and Redis) drives the
load, as bench/run.py's plain scenario; the variants take turns, round after round, and each figure is the
median of its rounds.

  bench/ratelimit.py [--rounds 3] [--duration 5] [--connections 50] [--portico PATH]
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

VARIANTS = ["none", "local", "redis"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(upstream, limited):
    limit = """
    options:
      rateLimit:
        ratelimitServerConfigSelector: {}
        raw: {rateLimits: [{actions: [{remoteAddress: {}}]}]}""" if limited else ""
    return f"""apiVersion: portico.dev/v1
kind: VirtualGateway
metadata: {{name: bench, namespace: bench}}
spec:
  options: {{bindAddress: 127.0.0.1}}
  ingressGatewaySelectors: [{{portName: http, destinationSelectors: [{{kubeServiceMatcher: {{labels: {{gateway: bench}}}}}}]}}]
  connectionHandlers: [{{http: {{routeConfig: [{{virtualHostSelector: {{labels: {{site: bench}}}}}}]}}}}]
---
apiVersion: portico.dev/v1
kind: StaticDestination
metadata: {{name: upstream, namespace: bench}}
spec: {{endpoints: [{{address: 127.0.0.1, port: {upstream}}}]}}
---
apiVersion: portico.dev/v1
kind: RateLimitServerConfig
metadata: {{name: never-hit, namespace: bench}}
spec:
  raw:
    descriptors:
    - {{key: remote_address, rateLimit: {{unit: SECOND, requestsPerUnit: 4000000000}}}}
---
apiVersion: portico.dev/v1
kind: VirtualHost
metadata: {{name: bench, namespace: bench, labels: {{site: bench}}}}
spec:
  domains: ["*"]
  routes:
  - routeAction: {{destinations: [{{staticDestination: {{name: upstream}}}}]}}{limit}
"""


def wait_http(url, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    sys.exit(f"{url} did not answer")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--portico", default=".build/release/portico")
    arguments = parser.parse_args()
    portico = os.path.abspath(arguments.portico)
    pin = len(os.sched_getaffinity(0)) >= 2 and {0, 1} <= os.sched_getaffinity(0)
    if pin:
        os.sched_setaffinity(0, {0})  # wrk, the upstream and Redis inherit CPU 0
    work = tempfile.mkdtemp(prefix="portico-ratelimit-bench-")
    processes = []
    try:
        upstream, redis = free_port(), free_port()
        nginx = os.path.join(work, "nginx")
        os.makedirs(nginx)
        with open(os.path.join(nginx, "nginx.conf"), "w") as file:
            file.write(f"""worker_processes 1;
daemon off;
pid {nginx}/nginx.pid;
error_log {nginx}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {nginx}/body; proxy_temp_path {nginx}/proxy; fastcgi_temp_path {nginx}/fastcgi;
  uwsgi_temp_path {nginx}/uwsgi; scgi_temp_path {nginx}/scgi;
  keepalive_requests 1000000000;
  server {{ listen 127.0.0.1:{upstream}; location / {{ return 200 "ok"; }} }}
}}
""")
        processes.append(subprocess.Popen(["nginx", "-p", nginx, "-e", f"{nginx}/error.log", "-c",
                                           f"{nginx}/nginx.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes.append(subprocess.Popen(["redis-server", "--port", str(redis), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no"], stdout=subprocess.DEVNULL))
        wait_http(f"http://127.0.0.1:{upstream}/")
        results = {variant: [] for variant in VARIANTS}
        for round_number in range(arguments.rounds):
            for variant in VARIANTS:
                folder = os.path.join(work, variant)
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, "config.yaml"), "w") as file:
                    file.write(config(upstream, variant != "none"))
                port, admin = free_port(), free_port()
                argv = [portico, "gateway", "--config", folder, "--name", "bench", "--namespace", "bench", "--label",
                        "gateway=bench", "--port", f"http={port}", "--admin", f"127.0.0.1:{admin}", "--threads", "1",
                        "--access-log", "off"]
                if variant == "redis":
                    argv += ["--rate-limit-store", f"redis://127.0.0.1:{redis}"]
                gateway = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           preexec_fn=(lambda: os.sched_setaffinity(0, {1})) if pin else None)
                try:
                    wait_http(f"http://127.0.0.1:{port}/")
                    subprocess.run(["wrk", "-t1", f"-c{arguments.connections}", "-d1s", f"http://127.0.0.1:{port}/"],
                                   capture_output=True)  # warm-up
                    output = subprocess.run(["wrk", "-t1", f"-c{arguments.connections}", f"-d{arguments.duration}s",
                                             f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
                    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
                    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
                    if errors:
                        sys.exit(f"{variant}: {errors.group(1)} responses were not 2xx")
                    metrics = urllib.request.urlopen(f"http://127.0.0.1:{admin}/stats/prometheus").read().decode()
                    if variant != "none" and 'outcome="allowed"' not in metrics:
                        sys.exit(f"{variant}: the rate limit counted nothing")
                    if "portico_ratelimit_store_errors_total 0" not in metrics and variant == "redis":
                        sys.exit("redis: the store failed during the run")
                    results[variant].append(rate)
                finally:
                    gateway.send_signal(signal.SIGKILL)
                    gateway.wait()
        medians = {variant: statistics.median(rates) for variant, rates in results.items()}
        print(json.dumps({
            "connections": arguments.connections, "duration_s": arguments.duration, "rounds": arguments.rounds,
            "pinned": pin, "requests_per_second": {v: round(m) for v, m in medians.items()},
            "ratio_to_none": {v: round(medians[v] / medians["none"], 3) for v in VARIANTS},
            "rounds_requests_per_second": {v: [round(r) for r in rates] for v, rates in results.items()},
        }, indent=1))
    finally:
        for process in processes:
            process.send_signal(signal.SIGKILL)
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
