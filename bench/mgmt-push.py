#!/usr/bin/env python3
"""How long a configuration change takes to reach gateways: `portico mgmt` and N managed gateway processes
on loopback; each change is written through the API and timed until each gateway has acknowledged the
generation that carries it (what `portico status` shows). Prints percentiles over every (change, gateway).

  bench/mgmt-push.py [--gateways 50] [--changes 20] [--routes 10] [--tables 0] [--portico PATH]

With --tables T, the routes are spread over T RouteTables the virtual host delegates to, and each change
rewrites one of them (as an app team's change would); otherwise they are in the virtual host, which each
change rewrites whole.
"""
import argparse, json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(api, token, method, path, body=None):
    request = urllib.request.Request(api + path, method=method, data=body.encode() if body else None)
    request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def table_manifest(index, routes, version):
    lines = [
        "apiVersion: portico.dev/v1", "kind: RouteTable",
        f"metadata: {{name: t{index}, namespace: bench, labels: {{bench: table}}}}", "spec:", "  routes:",
    ]
    for route in range(routes):
        body = f"v{version}" if route == 0 else f"r{route}"
        lines.append(
            f"  - {{name: r{route}, matchers: [{{uri: {{exact: /t{index}/r{route}}}}}], "
            f"directResponseAction: {{status: 200, body: {body}}}}}")
    return "\n".join(lines) + "\n"


DELEGATING_HOST = """apiVersion: portico.dev/v1
kind: VirtualHost
metadata: {name: bench, namespace: bench}
spec:
  domains: [bench.test]
  routes:
  - name: tables
    matchers: [{uri: {prefix: /}}]
    delegateAction: {selector: {namespaces: [bench], labels: {bench: table}}}
"""


def host_manifest(routes, version):
    lines = [
        "apiVersion: portico.dev/v1", "kind: VirtualHost", "metadata: {name: bench, namespace: bench}", "spec:",
        "  domains: [bench.test]", "  routes:",
    ]
    for index in range(routes):
        body = f"v{version}" if index == 0 else f"r{index}"
        lines.append(
            f"  - {{name: r{index}, matchers: [{{uri: {{exact: /r/{index}}}}}], "
            f"directResponseAction: {{status: 200, body: {body}}}}}")
    return "\n".join(lines) + "\n"


GATEWAY = """apiVersion: portico.dev/v1
kind: VirtualGateway
metadata: {name: bench, namespace: bench}
spec:
  ingressGatewaySelectors: [{portName: http, destinationSelectors: [{kubeServiceMatcher: {labels: {bench: "yes"}, namespaces: ["*"]}}]}]
  connectionHandlers: [{http: {routeConfig: [{virtualHostSelector: {namespaces: [bench]}}]}}]
"""


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateways", type=int, default=50)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--routes", type=int, default=10)
    parser.add_argument("--tables", type=int, default=0)
    parser.add_argument("--portico", default=".build/release/portico")
    parser.add_argument("--logs", help="keep the plane's and the gateways' logs in this folder")
    arguments = parser.parse_args()
    portico = os.path.abspath(arguments.portico)
    work = tempfile.mkdtemp(prefix="portico-push-")
    api_port, relay_port = free_port(), free_port()
    processes = []
    devnull = subprocess.DEVNULL
    if arguments.logs:
        os.makedirs(arguments.logs, exist_ok=True)

    def output(name):
        return open(os.path.join(arguments.logs, name + ".log"), "w") if arguments.logs else devnull
    try:
        processes.append(subprocess.Popen(
            [portico, "mgmt", "--store", "sqlite:plane.db", "--data-dir", "data", "--listen",
             f"127.0.0.1:{api_port}", "--relay", f"127.0.0.1:{relay_port}"], cwd=work, stdout=output("mgmt"),
            stderr=subprocess.STDOUT))
        api = f"http://127.0.0.1:{api_port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(api + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        token = open(os.path.join(work, "data", "admin-token")).read().strip()
        call(api, token, "PUT", "/apis/portico.dev/v1/namespaces/bench/virtualgateways/bench", GATEWAY)
        host_path = "/apis/portico.dev/v1/namespaces/bench/virtualhosts/bench"
        tables = arguments.tables
        per_table = arguments.routes // tables if tables else 0
        if tables:
            call(api, token, "PUT", host_path, DELEGATING_HOST)
            for index in range(tables):
                call(api, token, "PUT", f"/apis/portico.dev/v1/namespaces/bench/routetables/t{index}",
                     table_manifest(index, per_table, 0))
        else:
            call(api, token, "PUT", host_path, host_manifest(arguments.routes, 0))
        for index in range(arguments.gateways):
            processes.append(subprocess.Popen(
                [portico, "gateway", "--mgmt", f"127.0.0.1:{relay_port}", "--relay-ca", "data/relay-ca.pem",
                 "--token-file", "data/bootstrap-token", "--cache-dir", f"cache-{index}", "--name", f"g{index}",
                 "--namespace", "bench", "--label", "bench=yes", "--port", "http=0", "--admin", "127.0.0.1:0",
                 "--threads", "1", "--access-log", "off"], cwd=work, stdout=output(f"g{index}"),
                stderr=subprocess.STDOUT))

        def generations():
            answer = call(api, token, "GET", "/relay/v1/gateways")
            return {g["gateway"]: g["generation"] for g in answer["gateways"] if g["connected"]}

        # Ready when every gateway has acknowledged the plane's current generation (connected is not enough:
        # a gateway may still be applying its first snapshot).
        deadline = time.time() + 120
        while time.time() < deadline:
            current = generations()
            latest = call(api, token, "GET", "/relay/v1/gateways")["generation"]
            if len(current) == arguments.gateways and set(current.values()) == {latest}:
                break
            time.sleep(0.1)
        else:
            sys.exit(f"only {len(generations())} of {arguments.gateways} gateways connected")

        samples = []
        per_change = []
        for change in range(1, arguments.changes + 1):
            started = time.perf_counter()
            if tables:
                index = change % tables
                written = call(api, token, "PUT", f"/apis/portico.dev/v1/namespaces/bench/routetables/t{index}",
                               table_manifest(index, per_table, change))
            else:
                written = call(api, token, "PUT", host_path, host_manifest(arguments.routes, change))
            # The plane's generation right after the write carries it (a resourceVersion is the store's count,
            # which the plane's generation can run ahead of).
            target = call(api, token, "GET", "/relay/v1/gateways")["generation"]
            reached = {}
            while len(reached) < arguments.gateways and time.perf_counter() - started < 30:
                now = time.perf_counter()
                for gateway, generation in generations().items():
                    if generation >= target and gateway not in reached:
                        reached[gateway] = now - started
                # Polling without a pause would take a core from the processes being measured; 5 ms is the
                # figures' resolution.
                time.sleep(0.005)
            samples += list(reached.values())
            per_change.append(round(max(reached.values(), default=0) * 1000, 1))
            if len(reached) < arguments.gateways:
                print(f"change {change}: only {len(reached)} gateways programmed within 30 s", file=sys.stderr)
            time.sleep(0.2)
        milliseconds = [s * 1000 for s in samples]
        print(json.dumps({
            "gateways": arguments.gateways, "routes": arguments.routes, "tables": tables,
            "changes": arguments.changes,
            "samples": len(milliseconds), "p50_ms": round(percentile(milliseconds, 50), 1),
            "p90_ms": round(percentile(milliseconds, 90), 1), "p99_ms": round(percentile(milliseconds, 99), 1),
            "max_ms": round(max(milliseconds), 1), "slowest_gateway_per_change_ms": per_change}))
    finally:
        for process in processes:
            process.send_signal(signal.SIGKILL)
        for process in processes:
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
