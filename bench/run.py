#!/usr/bin/env python3
"""Load benchmark: Portico against nginx, HAProxy and Envoy, on this machine, over loopback.

Every proxy forwards to the same upstream (nginx, one worker) with one worker, thread or event
loop of its own; wrk drives the load. See bench/README.md for the scenarios and what the columns
mean. Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = ["plain", "routes-10k", "reload", "conn-memory", "large-body", "tls", "h2", "h2-upstream",
             "access-log", "cors"]
PROXIES = ["portico", "nginx", "haproxy", "envoy", "nio-floor"]
BASELINE = "portico-before"  # a second Portico binary (--portico-baseline), measured right after portico
CLK_TCK = os.sysconf("SC_CLK_TCK")
WARMUP_SECONDS = 1.0
ROUTE_SWEEP_SECONDS = 4.0  # the 10k-route warm-up sends every (host, route) request in turn
HOSTS_10K = 1000
ROUTES_PER_HOST = 10
LARGE_BODY_BYTES = 1 << 20
WANTED_CONNECTIONS = 20000  # what every proxy is configured to allow
CORS_ORIGIN = "https://app.bench"  # the one origin the cors scenario allows, and sends with every request
CORS_EXPOSE = "x-bench"
LOAD_CPU = 0  # wrk, the upstream and this driver
PROXY_CPU = 1  # the proxy under test


class StartError(Exception):
    pass


class NotApplicable(Exception):
    """The proxy cannot be set up for the scenario at all (not a failure of the run)."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes, ports, /proc


class Processes:
    """Every process the benchmark starts, each in its own session, stopped by process group."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, argv, log_path: Path, cpus=None, cwd=None) -> subprocess.Popen:
        def pin() -> None:
            if cpus is not None:
                os.sched_setaffinity(0, cpus)

        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=pin,
                cwd=cwd,
            )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 10.0) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # The leader is gone; anything left in its group (old nginx or HAProxy workers) goes too.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc, timeout=5)


_used_ports: set[int] = set()


def free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port


def proc_stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # Fields after "(comm)": rest[0] is field 3 (state), so field n is rest[n - 3].
    return data[data.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(int(entry))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if proc_stat(pid) is not None:
            tree.append(pid)
            todo.extend(parents.get(pid, []))
    return tree


def cpu_ticks(root: int) -> tuple[int, int]:
    """(user, user + system) ticks of the process tree, with what its members reaped (exited workers)."""
    user = total = 0
    for pid in process_tree(root):
        fields = proc_stat(pid)
        if fields:
            user += int(fields[11]) + int(fields[13])
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return user, total


def core_busy_ticks(cpu: int | None) -> int:
    """Ticks a core spent on anything but idle and I/O wait, from /proc/stat."""
    if cpu is None:
        return 0
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                values = [int(v) for v in line.split()[1:]]
                return sum(values[:8]) - values[3] - values[4]
    return 0


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> tuple[int, list[tuple[int, int]]]:
    parts = [(pid, rss_kb(pid)) for pid in process_tree(root)]
    return sum(kb for _, kb in parts), parts


def http_get(port: int, host: str, path: str, timeout: float = 2.0, tls: bool = False) -> int:
    return http_response(port, host, path, timeout=timeout, tls=tls)[0]


def http_response(port: int, host: str, path: str, headers: dict | None = None, timeout: float = 2.0,
                  tls: bool = False) -> tuple[int, http.client.HTTPMessage]:
    """The status and header fields of a GET, its body read and dropped."""
    if tls:
        # The benchmark's certificate is self-signed: what is measured is the proxies, not trust.
        context = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        response.read()
        return response.status, response.msg
    finally:
        conn.close()


def write_atomic(path: Path, text: str) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Route sets shared by every proxy


def route_hosts(variant: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(host, [(kind, path)]) for the route scenarios: half exact, half prefix paths."""
    count = {"routes10": 1, "routes10k": HOSTS_10K}[variant]
    routes = []
    for i in range(ROUTES_PER_HOST):
        routes.append(("exact", f"/svc{i}") if i % 2 == 0 else ("prefix", f"/svc{i}/"))
    return [(f"h{h}.bench", routes) for h in range(count)]


def probes(variant: str) -> list[tuple[str, str, int]]:
    """Requests that must get these statuses before a proxy counts as started."""
    if variant == "routes10":
        return [("h0.bench", "/svc0", 200), ("h0.bench", "/svc9/item", 200),
                ("h0.bench", "/svc0/x", 404), ("h0.bench", "/nope", 404)]
    if variant == "routes10k":
        last = f"h{HOSTS_10K - 1}.bench"
        return [(last, "/svc9/item", 200), ("h500.bench", "/svc4", 200), ("h0.bench", "/svc1/a", 200),
                ("h0.bench", "/svc2/x", 404), (f"h{HOSTS_10K}.bench", "/svc0", 404)]
    return [("bench.local", "/", 200), ("bench.local", "/large.bin", 200)]


# ---------------------------------------------------------------------------------------------
# The upstream


def nginx_temp_paths(base: Path) -> str:
    """Temp folders inside the work dir (the packaged defaults need root), for compiled-in modules."""
    configure = subprocess.run(["nginx", "-V"], capture_output=True, text=True).stderr
    lines = [f"client_body_temp_path {base}/body;", f"proxy_temp_path {base}/proxy;"]
    for module in ("fastcgi", "uwsgi", "scgi"):
        if f"--without-http_{module}_module" not in configure:
            lines.append(f"{module}_temp_path {base}/{module};")
    return "\n  ".join(lines)


class Upstream:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.dir = ctx.work / "upstream"
        self.dir.mkdir()
        www = self.dir / "www"
        www.mkdir()
        (www / "large.bin").write_bytes(os.urandom(LARGE_BODY_BYTES))
        self.port = free_port()
        self.h2c_port = free_port()  # HTTP/2 with prior knowledge, for the h2-upstream scenario
        conf = self.dir / "nginx.conf"
        conf.write_text(f"""worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
worker_rlimit_nofile {ctx.nofile};
events {{ worker_connections {min(16384, ctx.nofile)}; }}
http {{
  access_log off;
  {nginx_temp_paths(self.dir)}
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 600s;
  keepalive_requests 1000000000;
  default_type text/plain;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096;
    location = /large.bin {{ root {www}; default_type application/octet-stream; }}
    location / {{ return 200 "ok"; }}
  }}
  server {{
    listen 127.0.0.1:{self.h2c_port} http2 backlog=4096;
    http2_max_concurrent_streams 1000;
    location = /large.bin {{ root {www}; default_type application/octet-stream; }}
    location / {{ return 200 "ok"; }}
  }}
}}
""")
        self.proc = ctx.procs.start(["nginx", "-p", self.dir, "-e", self.dir / "error.log", "-c", conf],
                                    self.dir / "stdout.log", cpus=ctx.load_cpus)
        deadline = time.time() + 15
        while True:
            try:
                if http_get(self.port, "upstream", "/") == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"the upstream nginx did not start:\n{tail(self.dir / 'error.log')}")
            time.sleep(0.05)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def ensure_certificate(ctx) -> None:
    """A self-signed P-256 certificate for every proxy's TLS listener, made once per run."""
    if getattr(ctx, "tls_cert", None):
        return
    cert, key = ctx.work / "bench.crt", ctx.work / "bench.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=bench.test",
                    "-addext", "subjectAltName=DNS:bench.test"], check=True, capture_output=True)
    combined = ctx.work / "bench.pem"
    combined.write_text(cert.read_text() + key.read_text())
    for path in (cert, key, combined):
        os.chmod(path, 0o644)
    ctx.tls_cert, ctx.tls_key, ctx.tls_combined = cert, key, combined


# ---------------------------------------------------------------------------------------------
# Proxies


class Proxy:
    """One proxy instance for one configuration variant: plain, reload, routes10, routes10k, tls (the plain
    routing behind TLS termination, offering h2 and http/1.1 by ALPN), h2up, logged, cors (the plain routing
    with CORS for CORS_ORIGIN)."""

    name = ""
    reload_label = ""
    scenarios: set[str] | None = None  # the scenarios it takes part in; None: all

    def __init__(self, ctx, variant: str) -> None:
        self.ctx = ctx
        self.variant = variant
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-{variant}-", dir=ctx.work))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.reloads_sent = 0
        self.generation = 0
        self.tls = variant == "tls"
        if self.tls:
            ensure_certificate(ctx)
        # The h2-upstream scenario speaks HTTP/2 (h2c) to the upstream; every other one HTTP/1.1.
        self.upstream_h2 = variant == "h2up"
        self.upstream_port = ctx.upstream.h2c_port if self.upstream_h2 else ctx.upstream.port
        # The access-log scenario: the plain routing, with every request logged to a file.
        self.access_log = self.dir / "access.log" if variant == "logged" else None
        # The cors scenario: the plain routing, with CORS allowed for CORS_ORIGIN (and exposing CORS_EXPOSE).
        self.cors = variant == "cors"

    @property
    def log_path(self) -> Path:
        return self.dir / "proxy.log"

    def argv(self) -> list:
        raise NotImplementedError

    def write_config(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self.write_config()
        started = time.time()
        self.proc = self.ctx.procs.start(self.argv(), self.log_path, cpus=self.ctx.proxy_cpus, cwd=self.dir)
        deadline = started + 90
        wanted = probes(self.variant)
        last = "no answer"
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise StartError(f"exited with status {self.proc.returncode}:\n{tail(self.log_path)}")
            try:
                got = [http_get(self.port, host, path, tls=self.tls) for host, path, _ in wanted]
                if got == [status for _, _, status in wanted]:
                    self.startup_seconds = time.time() - started
                    if self.cors:
                        self.check_cors()
                    return
                last = "unexpected statuses " + ", ".join(
                    f"{host}{path}={status} (want {want})" for (host, path, want), status in zip(wanted, got))
            except (OSError, http.client.HTTPException) as error:
                last = f"{type(error).__name__}: {error}"
            time.sleep(0.1)
        raise StartError(f"not serving after 90 s ({last}):\n{tail(self.log_path)}")

    def check_cors(self) -> None:
        """The CORS answer every proxy must give in the cors scenario, or it is not measured: to the allowed
        origin its allow and expose fields and Vary: Origin; to any other origin no CORS field at all."""
        status, fields = http_response(self.port, "bench.local", "/", {"Origin": CORS_ORIGIN}, tls=self.tls)
        wrong = [] if status == 200 else [f"status {status}"]
        for name, want in (("access-control-allow-origin", CORS_ORIGIN),
                           ("access-control-expose-headers", CORS_EXPOSE)):
            if fields.get_all(name) != [want]:
                wrong.append(f"{name} {fields.get_all(name)} (want {want})")
        vary = [v.strip().lower() for line in fields.get_all("vary") or [] for v in line.split(",")]
        if "origin" not in vary:
            wrong.append(f"vary {fields.get_all('vary')} (want Origin)")
        _, other = http_response(self.port, "bench.local", "/", {"Origin": "https://other.bench"}, tls=self.tls)
        extra = sorted({name.lower() for name in other.keys() if name.lower().startswith("access-control-")})
        if extra:
            wrong.append(f"another origin got {', '.join(extra)}")
        if wrong:
            raise StartError(f"wrong CORS answer to Origin {CORS_ORIGIN}: {'; '.join(wrong)}")

    def stop(self) -> None:
        if self.proc is not None:
            self.ctx.procs.stop(self.proc)
            self.proc = None

    def root_pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def reload(self) -> None:
        """Change the configuration once (a new route /reload-N) and make the proxy apply it."""
        raise NotImplementedError

    def reloads_applied(self) -> str:
        return f"{self.reloads_sent} sent"


class Portico(Proxy):
    name = "portico"
    reload_label = "manifest rewritten (watched folder)"

    def binary(self) -> str:
        return self.ctx.portico

    def argv(self) -> list:
        self.admin_port = free_port()
        return [self.binary(), "gateway", "--config", self.dir / "config", "--name", "bench",
                "--namespace", "bench", "--label", "app=bench", "--port", f"http={self.port}",
                "--threads", "1", "--access-log", self.access_log or "off", "--admin",
                f"127.0.0.1:{self.admin_port}"]

    def write_config(self) -> None:
        config = self.dir / "config"
        config.mkdir()
        (config / "gateway.yaml").write_text(f"""apiVersion: portico.dev/v1
kind: VirtualGateway
metadata: {{name: bench, namespace: bench}}
spec:
  options: {{bindAddress: 127.0.0.1}}
  ingressGatewaySelectors:
  - portName: http
    destinationSelectors:
    - kubeServiceMatcher: {{labels: {{app: bench}}}}
  connectionHandlers:
  - {self.tls_options()}http:
      routeConfig:
      - virtualHostSelector: {{labels: {{bench: "yes"}}}}
---
apiVersion: portico.dev/v1
kind: StaticDestination
metadata: {{name: upstream, namespace: bench}}
spec:
  endpoints: [{{address: 127.0.0.1, port: {self.upstream_port}}}]
{"  protocol: HTTP2" + chr(10) if self.upstream_h2 else ""}""")
        write_atomic(config / "hosts.yaml", self.hosts_yaml())

    def tls_options(self) -> str:
        if not self.tls:
            return ""
        return (f"connectionOptions: {{sslConfig: {{sslFiles: {{tlsCert: {self.ctx.tls_cert}, "
                f"tlsKey: {self.ctx.tls_key}}}, tlsMode: SIMPLE}}}}\n    ")

    def hosts_yaml(self) -> str:
        forward = "routeAction: {destinations: [{staticDestination: {name: upstream}}]}"
        if self.variant in ("routes10", "routes10k"):
            docs = []
            for host, routes in route_hosts(self.variant):
                lines = [f"""apiVersion: portico.dev/v1
kind: VirtualHost
metadata: {{name: {host.replace('.', '-')}, namespace: bench, labels: {{bench: "yes"}}}}
spec:
  domains: [{host}]
  routes:"""]
                for i, (kind, path) in enumerate(routes):
                    lines.append(f"  - name: r{i}\n    matchers: [{{uri: {{{kind}: {path}}}}}]\n    {forward}")
                docs.append("\n".join(lines))
            return "\n---\n".join(docs) + "\n"
        extra = ""
        if self.generation:
            extra = (f"  - name: reload-{self.generation}\n    matchers: [{{uri: {{exact: /reload-{self.generation}}}}}]\n"
                     f"    directResponseAction: {{status: 200, body: \"{self.generation}\"}}\n")
        cors = ""
        if self.cors:
            cors = (f'  options:\n    trafficPolicy:\n      corsPolicy: {{allowOrigins: [{{exact: "{CORS_ORIGIN}"}}], '
                    f"allowMethods: [GET], exposeHeaders: [{CORS_EXPOSE}]}}\n")
        return f"""apiVersion: portico.dev/v1
kind: VirtualHost
metadata: {{name: plain, namespace: bench, labels: {{bench: "yes"}}}}
spec:
  domains: ["*"]
{cors}  routes:
{extra}  - name: all
    matchers: [{{uri: {{prefix: /}}}}]
    {forward}
"""

    def reload(self) -> None:
        self.generation += 1
        write_atomic(self.dir / "config" / "hosts.yaml", self.hosts_yaml())
        self.reloads_sent += 1

    def reload_metric(self) -> float | None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=2)
            conn.request("GET", "/stats/prometheus")
            text = conn.getresponse().read().decode()
            conn.close()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("portico_config_reloads_total") and 'result="success"' in line:
                return float(line.split()[-1])
        return 0.0

    def reloads_applied(self) -> str:
        now = self.reload_metric()
        if now is None:
            return f"{self.reloads_sent} written"
        return f"{self.reloads_sent} written, {now - self.reload_base:.0f} applied"


class PorticoBefore(Portico):
    """A second Portico binary (--portico-baseline), measured beside the first in the same run: before and
    after a change."""
    name = BASELINE

    def binary(self) -> str:
        return self.ctx.portico_baseline


class SignalReloaded(Proxy):
    """A proxy reloaded by rewriting its configuration file and signalling its master process."""
    config_file = ""
    reload_signal = signal.SIGHUP

    def reload(self) -> None:
        self.generation += 1
        write_atomic(self.dir / self.config_file, self.config())
        os.kill(self.root_pid(), self.reload_signal)
        self.reloads_sent += 1

    def reloads_applied(self) -> str:
        return f"{self.reloads_sent} {self.reload_signal.name}s"


class Nginx(SignalReloaded):
    name = "nginx"
    reload_label = "config rewritten + SIGHUP"
    config_file = "nginx.conf"
    reload_signal = signal.SIGHUP

    def argv(self) -> list:
        return ["nginx", "-p", self.dir, "-e", self.dir / "error.log", "-c", self.dir / "nginx.conf"]

    def write_config(self) -> None:
        write_atomic(self.dir / "nginx.conf", self.config())

    def config(self) -> str:
        if self.upstream_h2:
            raise NotApplicable("nginx proxies HTTP to HTTP/1.x upstreams only (HTTP/2 only for gRPC)")
        forward = "proxy_pass http://up;"
        servers = []
        if self.variant in ("routes10", "routes10k"):
            servers.append(f"server {{ listen 127.0.0.1:{self.port} default_server; return 404; }}")
            for host, routes in route_hosts(self.variant):
                locations = [f"location {'= ' if kind == 'exact' else ''}{path} {{ {forward} }}" for kind, path in routes]
                locations.append("location / { return 404; }")
                servers.append(f"server {{\n    listen 127.0.0.1:{self.port};\n    server_name {host};\n    "
                               + "\n    ".join(locations) + "\n  }")
        else:
            extra = ""
            if self.generation:
                extra = f'location = /reload-{self.generation} {{ return 200 "{self.generation}"; }}\n    '
            tls = ""
            if self.tls:
                tls = (f"    ssl_certificate {self.ctx.tls_cert};\n    ssl_certificate_key {self.ctx.tls_key};\n")
            servers.append(f"server {{\n    listen 127.0.0.1:{self.port} {'ssl http2 ' if self.tls else ''}"
                           f"default_server backlog=4096;\n{tls}"
                           f"    {extra}location / {{ {forward}{self.cors_directives()} }}\n  }}")
        return f"""worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
worker_rlimit_nofile {self.ctx.nofile};
events {{ worker_connections {self.ctx.proxy_connections}; }}
http {{
  {self.access_log_directive()}
  {nginx_temp_paths(self.dir)}
  keepalive_timeout 600s;
  keepalive_requests 1000000000;
  server_names_hash_max_size 8192;
  server_names_hash_bucket_size 64;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $http_host;
  proxy_max_temp_file_size 0;
  {self.cors_maps()}
  upstream up {{
    server 127.0.0.1:{self.ctx.upstream.port};
    # Room to keep every upstream connection of the busiest scenario (200 clients): with fewer, nginx
    # closes and reopens upstream connections under load, which the other proxies never do.
    keepalive 1024;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
  }}
  {(chr(10) + '  ').join(servers)}
}}
"""

    def cors_maps(self) -> str:
        """The cors variant's fields, by origin: empty for any other origin, and add_header adds no field whose
        value is empty."""
        if not self.cors:
            return ""
        values = (("cors_origin", "$http_origin"), ("cors_expose", CORS_EXPOSE), ("cors_vary", "Origin"))
        return "\n  ".join(f'map $http_origin ${variable} {{ "{CORS_ORIGIN}" {value}; default ""; }}'
                           for variable, value in values)

    def cors_directives(self) -> str:
        if not self.cors:
            return ""
        return (" add_header Access-Control-Allow-Origin $cors_origin always;"
                " add_header Access-Control-Expose-Headers $cors_expose always; add_header Vary $cors_vary always;")

    def access_log_directive(self) -> str:
        if self.access_log is None:
            return "access_log off;"
        # JSON lines with the fields Portico logs, batched as Portico batches them (64 KiB or 100 ms).
        fields = ('{"time":"$time_iso8601","method":"$request_method","authority":"$http_host",'
                  '"path":"$request_uri","status":$status,"bytes_in":$request_length,"bytes_out":$body_bytes_sent,'
                  '"duration_ms":$request_time,"upstream":"$upstream_addr","upstream_ms":"$upstream_response_time",'
                  '"request_id":"$request_id"}')
        return (f"log_format lines escape=json '{fields}';\n"
                f"  access_log {self.access_log} lines buffer=64k flush=100ms;")


class HAProxy(SignalReloaded):
    name = "haproxy"
    reload_label = "config rewritten + SIGUSR2 (master-worker)"
    config_file = "haproxy.cfg"
    reload_signal = signal.SIGUSR2

    def argv(self) -> list:
        return ["haproxy", "-W", "-f", self.dir / "haproxy.cfg", "-p", self.dir / "haproxy.pid"]

    def write_config(self) -> None:
        if self.variant in ("routes10", "routes10k"):
            exact, prefix = [], []
            for host, routes in route_hosts(self.variant):
                for kind, path in routes:
                    (exact if kind == "exact" else prefix).append(f"{host}{path} upstream")
            (self.dir / "exact.map").write_text("\n".join(exact) + "\n")
            (self.dir / "prefix.map").write_text("\n".join(prefix) + "\n")
        write_atomic(self.dir / "haproxy.cfg", self.config())

    def config(self) -> str:
        if self.variant in ("routes10", "routes10k"):
            # base = Host header + path; exact paths by map_str, prefixes by map_beg (both tree lookups).
            routing = f"""  http-request set-var(txn.backend) base,map_str({self.dir}/exact.map)
  http-request set-var(txn.backend) base,map_beg({self.dir}/prefix.map) if !{{ var(txn.backend) -m found }}
  http-request deny deny_status 404 if !{{ var(txn.backend) -m found }}
  use_backend %[var(txn.backend)]"""
        else:
            routing = "  default_backend upstream"
            if self.generation:
                routing = (f"  http-request return status 200 content-type text/plain string {self.generation} "
                           f"if {{ path /reload-{self.generation} }}\n" + routing)
            if self.cors:
                # The request's Origin, kept for the response rules; only the allowed one gets the fields.
                routing = f"""  http-request set-var(txn.origin) req.hdr(origin)
  acl cors_allowed var(txn.origin) -m str {CORS_ORIGIN}
  http-response set-header Access-Control-Allow-Origin %[var(txn.origin)] if cors_allowed
  http-response set-header Access-Control-Expose-Headers {CORS_EXPOSE} if cors_allowed
  http-response add-header Vary Origin if cors_allowed
""" + routing
        # HAProxy logs through syslog or a stream; here its standard output, which goes to a file.
        logging = ("  log stdout format raw local0\n" if self.access_log else "",
                   "  log global\n  option httplog\n" if self.access_log else "")
        return f"""global
  nbthread 1
  maxconn {self.ctx.haproxy_maxconn}
  hard-stop-after 10s
{logging[0]}
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 600s
  timeout server 600s
  timeout http-keep-alive 600s
  maxconn {self.ctx.haproxy_maxconn}
{logging[1]}
frontend bench
  bind 127.0.0.1:{self.port}{f" ssl crt {self.ctx.tls_combined} alpn h2,http/1.1" if self.tls else ""}
{routing}

backend upstream
  server up 127.0.0.1:{self.upstream_port}{" proto h2" if self.upstream_h2 else ""}
"""



class Envoy(Proxy):
    name = "envoy"
    reload_label = "route config file swapped (file-based RDS); no hot restart"

    def argv(self) -> list:
        return [self.ctx.envoy, "-c", self.dir / "envoy.json", "--concurrency", "1",
                "--disable-hot-restart", "-l", "warning"]

    def route_config(self) -> dict:
        cluster = {"route": {"cluster": "upstream"}}
        if self.variant in ("routes10", "routes10k"):
            vhosts = []
            for host, routes in route_hosts(self.variant):
                vhosts.append({"name": host, "domains": [host], "routes": [
                    {"match": {"path" if kind == "exact" else "prefix": path}, **cluster} for kind, path in routes]})
        else:
            routes = [{"match": {"prefix": "/"}, **cluster}]
            if self.generation:
                routes.insert(0, {"match": {"path": f"/reload-{self.generation}"},
                                  "direct_response": {"status": 200, "body": {"inline_string": str(self.generation)}}})
            vhosts = [{"name": "plain", "domains": ["*"], "routes": routes}]
            if self.cors:
                vhosts[0]["typed_per_filter_config"] = {"envoy.filters.http.cors": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
                    "allow_origin_string_match": [{"exact": CORS_ORIGIN}], "allow_methods": "GET",
                    "expose_headers": CORS_EXPOSE}}
                # Envoy's CORS filter sends no Vary: a route of its own for the allowed origin adds it.
                routes.insert(0, {"match": {"prefix": "/", "headers": [
                    {"name": "origin", "string_match": {"exact": CORS_ORIGIN}}]}, **cluster,
                    "response_headers_to_add": [{"header": {"key": "vary", "value": "Origin"},
                                                 "append_action": "APPEND_IF_EXISTS_OR_ADD"}]})
        return {"name": "bench", "virtual_hosts": vhosts}

    def write_rds(self) -> None:
        doc = {"version_info": str(self.generation), "resources": [
            {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", **self.route_config()}]}
        write_atomic(self.dir / "rds.json", json.dumps(doc))

    def write_config(self) -> None:
        self.admin_port = free_port()
        hcm = {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "bench",
            "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
        }
        if self.cors:
            hcm["http_filters"].insert(0, {"name": "envoy.filters.http.cors", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}})
        if self.access_log is not None:
            hcm["access_log"] = [{"name": "envoy.access_loggers.file", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": str(self.access_log)}}]
        if self.variant == "reload":
            self.write_rds()
            hcm["rds"] = {"route_config_name": "bench", "config_source": {
                "resource_api_version": "V3", "path_config_source": {"path": str(self.dir / "rds.json")}}}
        else:
            hcm["route_config"] = self.route_config()
        config = {
            "node": {"id": "bench", "cluster": "bench"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": self.admin_port}}},
            "overload_manager": {"resource_monitors": [{
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                    "max_active_downstream_connections": self.ctx.proxy_connections}}]},
            "static_resources": {
                "listeners": [{
                    "name": "bench",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": self.port}},
                    "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                    "typed_config": hcm}], **self.transport_socket()}],
                }],
                "clusters": [{
                    "name": "upstream",
                    "type": "STATIC",
                    "connect_timeout": "5s",
                    "load_assignment": {"cluster_name": "upstream", "endpoints": [{"lb_endpoints": [{"endpoint": {
                        "address": {"socket_address": {"address": "127.0.0.1", "port_value": self.upstream_port}}}}]}]},
                    **self.upstream_protocol(),
                }],
            },
        }
        (self.dir / "envoy.json").write_text(json.dumps(config, indent=1))

    def upstream_protocol(self) -> dict:
        if not self.upstream_h2:
            return {}
        return {"typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http2_protocol_options": {}}}}}

    def transport_socket(self) -> dict:
        if not self.tls:
            return {}
        return {"transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {
                "tls_certificates": [{"certificate_chain": {"filename": str(self.ctx.tls_cert)},
                                      "private_key": {"filename": str(self.ctx.tls_key)}}],
                "alpn_protocols": ["h2", "http/1.1"]}}}}

    def reload(self) -> None:
        self.generation += 1
        self.write_rds()
        self.reloads_sent += 1

    def reload_metric(self) -> float | None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=2)
            conn.request("GET", "/stats?filter=rds.bench.update_success")
            text = conn.getresponse().read().decode()
            conn.close()
        except OSError:
            return None
        for line in text.splitlines():
            if "update_success" in line:
                return float(line.split(":")[-1])
        return 0.0

    def reloads_applied(self) -> str:
        now = self.reload_metric()
        if now is None:
            return f"{self.reloads_sent} written"
        return f"{self.reloads_sent} written, {now - self.reload_base:.0f} applied"


class NIOFloor(Proxy):
    """Not a gateway: the least work any proxy built on SwiftNIO does (bench/NIOFloor). HTTP/1.1 is relayed
    byte for byte, a connection of its own to the upstream per client; HTTP/2 streams are answered on the
    spot, with no upstream. Its throughput bounds Portico's from above; it is not a peer to beat."""
    name = "nio-floor"
    # Not reload (nothing to reload), routes-10k (no routes) or conn-memory (it holds an upstream connection per
    # idle client); h2-upstream would need an HTTP/2 client.
    scenarios = {"plain", "tls", "h2", "large-body"}

    def argv(self) -> list:
        if self.variant == "tls":
            return [self.ctx.nio_floor, "tls", str(self.port), str(self.upstream_port), self.ctx.tls_cert,
                    self.ctx.tls_key]
        return [self.ctx.nio_floor, "relay", str(self.port), str(self.upstream_port)]

    def write_config(self) -> None:
        pass


PROXY_CLASSES = {"portico": Portico, BASELINE: PorticoBefore, "nginx": Nginx, "haproxy": HAProxy, "envoy": Envoy,
                 "nio-floor": NIOFloor}


# ---------------------------------------------------------------------------------------------
# Load generation

DONE_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, '
    .. '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %.1f, "p99_us": %.1f, '
    .. '"p999_us": %.1f, "mean_us": %.1f, "max_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max))
end
"""


def write_lua(ctx, variant: str) -> Path:
    path = ctx.work / f"wrk-{variant}.lua"
    if path.exists():
        return path
    text = DONE_LUA
    if variant.startswith("routes"):
        hosts = HOSTS_10K if variant.startswith("routes10k") else 1
        # Every (host, route) request is formatted once. Measured runs pick one at random for each
        # request; the warm-up sweep sends them all in turn, so that every route has been used once.
        pick = ("n = n % #requests + 1\n  return requests[n]" if variant.endswith("-sweep")
                else "return requests[math.random(#requests)]")
        text = f"""
local requests = {{}}
init = function(args)
  math.randomseed(42)
  for h = 0, {hosts - 1} do
    for i = 0, {ROUTES_PER_HOST - 1} do
      local path = "/svc" .. i
      if i % 2 == 1 then path = path .. "/item" end
      requests[#requests + 1] = wrk.format("GET", path, {{["Host"] = "h" .. h .. ".bench"}})
    end
  end
end
local n = 0
request = function()
  {pick}
end
""" + text
    elif variant == "large":
        text = 'wrk.path = "/large.bin"\n' + text
    elif variant == "cors":
        text = f'wrk.headers["Origin"] = "{CORS_ORIGIN}"\n' + text
    path.write_text(text)
    return path


def run_load_tool(ctx, argv: list, seconds: float, output: str) -> str:
    """Runs a load generator on the load CPU for about `seconds` and returns what it printed."""
    out = ctx.work / output
    out.unlink(missing_ok=True)
    proc = ctx.procs.start(argv, out, cpus=ctx.load_cpus)
    try:
        proc.wait(seconds + 60)
    finally:
        ctx.procs.stop(proc, timeout=2)
    return out.read_text(errors="replace")


def run_wrk(ctx, port: int, connections: int, seconds: float, script: Path, path: str = "/",
            scheme: str = "http") -> dict:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
            "-s", script, f"{scheme}://127.0.0.1:{port}{path}"]
    text = run_load_tool(ctx, argv, seconds, "wrk.out")
    for line in text.splitlines():
        if line.startswith("WRKJSON "):
            result = json.loads(line[len("WRKJSON "):])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
            return result
    raise RuntimeError(f"wrk printed no result:\n{text[-2000:]}")


H2_STREAMS = 10  # concurrent streams per HTTP/2 connection


def run_h2load(ctx, port: int, connections: int, seconds: float) -> dict:
    """h2load over TLS (h2 by ALPN), H2_STREAMS streams per connection, for `seconds`."""
    argv = ["h2load", "-t1", f"-c{connections}", f"-m{H2_STREAMS}", f"-D{max(1, round(seconds))}",
            f"https://127.0.0.1:{port}/"]
    text = run_load_tool(ctx, argv, seconds, "h2load.out")
    done = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored",
                     text)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", text)
    protocol = re.search(r"Application protocol: (\S+)", text)
    if not done or not codes:
        raise RuntimeError(f"h2load printed no result:\n{text[-2000:]}")
    if not protocol or protocol.group(1) != "h2":
        raise RuntimeError(f"h2 was not negotiated:\n{text[-2000:]}")
    succeeded = int(done.group(3))
    errors = int(done.group(4)) + int(done.group(5)) + int(codes.group(3)) + int(codes.group(4))

    def micros(value: str) -> float:
        number = float(re.sub(r"[a-z]+$", "", value))
        return number * {"us": 1, "ms": 1e3, "s": 1e6}[re.search(r"[a-z]+$", value).group(0)]

    return {"requests": succeeded, "rps": succeeded / seconds, "errors": errors,
            "mean_us": micros(mean.group(1)) if mean else None, "p50_us": None, "p99_us": None, "p999_us": None}


def count_syscalls(ctx, proxy: Proxy, connections: int, script: Path, path: str) -> float | None:
    """A separate short run under strace -c -f: system calls per request (all proxy processes)."""
    if shutil.which("strace") is None:
        log("    strace is not installed; no syscall counts")
        return None
    out = proxy.dir / "strace.txt"
    argv = ["strace", "-c", "-f", "-o", out]
    for pid in process_tree(proxy.root_pid()):
        argv += ["-p", pid]
    tracer = ctx.procs.start(argv, proxy.dir / "strace.log", cpus=ctx.load_cpus)
    time.sleep(1.0)
    try:
        result = run_wrk(ctx, proxy.port, connections, min(ctx.duration, 5), script, path,
                         scheme="https" if proxy.tls else "http")
    finally:
        if tracer.poll() is None:
            os.kill(tracer.pid, signal.SIGINT)
        ctx.procs.stop(tracer, sig=signal.SIGINT, timeout=20)
    total = None
    for line in out.read_text(errors="replace").splitlines() if out.exists() else []:
        parts = line.split()
        if parts and parts[-1] == "total":
            total = int(parts[3])
    if total is None or result["requests"] == 0:
        return None
    return total / result["requests"]


def measure(ctx, proxy: Proxy, connections: int, script: Path | None, path: str = "/", during=None,
            warmup: tuple[Path, float] | None = None, h2: bool = False) -> dict:
    """Warm up, then one measured run (wrk, or h2load with `h2`) with the proxy's CPU time read around it."""
    scheme = "https" if proxy.tls else "http"

    def load(seconds: float, script_path) -> dict:
        if h2:
            return run_h2load(ctx, proxy.port, connections, seconds)
        return run_wrk(ctx, proxy.port, connections, seconds, script_path, path, scheme=scheme)

    warm_script, warm_seconds = warmup or (script, WARMUP_SECONDS)
    warm = load(warm_seconds, warm_script)
    root = proxy.root_pid()
    stop = threading.Event()
    worker = None
    if during is not None:
        worker = threading.Thread(target=during, args=(stop,), daemon=True)
    core = next(iter(ctx.proxy_cpus)) if ctx.proxy_cpus else None
    t0, (user0, cpu0), busy0 = time.time(), cpu_ticks(root), core_busy_ticks(core)
    if worker:
        worker.start()
    try:
        result = load(ctx.duration, script)
    finally:
        stop.set()
        if worker:
            worker.join()
    (user1, cpu1), busy1, t1 = cpu_ticks(root), core_busy_ticks(core), time.time()
    cpu_seconds = (cpu1 - cpu0) / CLK_TCK
    if core is not None:
        # Time the proxy's core spent on other work: other processes, or interrupts.
        other = max(0.0, (busy1 - busy0 - (cpu1 - cpu0)) / CLK_TCK)
        ctx.interference.append(100 * other / (t1 - t0))
    requests = result["requests"]
    result["cpu_us_per_req"] = cpu_seconds * 1e6 / requests if requests else None
    # The user-space part alone: the proxy's own code and libraries, apart from the system calls it makes.
    result["user_us_per_req"] = (user1 - user0) / CLK_TCK * 1e6 / requests if requests else None
    result["cpu_percent"] = 100 * cpu_seconds / (t1 - t0)
    result["warmup_rps"] = warm["rps"]
    result["warmup_requests"] = warm["requests"]
    if ctx.syscalls and during is None and not h2:
        result["syscalls_per_req"] = count_syscalls(ctx, proxy, connections, script, path)
    return result


# ---------------------------------------------------------------------------------------------
# Idle connections


def open_idle_connections(port: int, count: int, window: int = 64, timeout: float = 120.0):
    """Open `count` connections, one request each (response read in full), and keep them open.

    At most `window` are connecting or waiting for their answer at a time.
    """
    request = b"GET / HTTP/1.1\r\nHost: bench.local\r\n\r\n"
    linger = struct.pack("ii", 1, 0)  # close with RST: no TIME_WAIT pile-up across runs
    sel = selectors.DefaultSelector()
    idle: list[socket.socket] = []
    failed = 0
    started = 0
    pending = 0
    deadline = time.time() + timeout

    def finish(sock, ok: bool) -> None:
        nonlocal failed, pending
        sel.unregister(sock)
        pending -= 1
        if ok:
            idle.append(sock)
        else:
            failed += 1
            sock.close()

    while len(idle) + failed < count:
        while started < count and pending < window:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            sel.register(sock, selectors.EVENT_WRITE, {"buf": b""})
            started += 1
            pending += 1
        if time.time() > deadline:
            for key in list(sel.get_map().values()):
                finish(key.fileobj, False)
            break
        for key, mask in sel.select(timeout=1.0):
            sock, state = key.fileobj, key.data
            if mask & selectors.EVENT_WRITE:
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    finish(sock, False)
                    continue
                try:
                    sock.send(request)
                except OSError:
                    finish(sock, False)
                    continue
                sel.modify(sock, selectors.EVENT_READ, state)
                continue
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                finish(sock, False)
                continue
            state["buf"] += data
            complete = response_complete(state["buf"])
            if complete is not None:
                finish(sock, complete)
    sel.close()
    return idle, failed


def response_complete(buf: bytes):
    """None while incomplete; True for a complete 2xx response, False for any other status."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    ok = head[0].split()[1].startswith("2") if len(head[0].split()) > 1 else False
    body = buf[end + 4:]
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return ok if len(body) >= int(value) else None
        if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            return ok if body.endswith(b"0\r\n\r\n") else None
    return ok


def still_open(socks: list[socket.socket]) -> int:
    """How many of the idle connections the proxy has not closed."""
    sel = selectors.DefaultSelector()
    for sock in socks:
        sel.register(sock, selectors.EVENT_READ)
    closed = len(sel.select(timeout=0))
    sel.close()
    return len(socks) - closed


# ---------------------------------------------------------------------------------------------
# Scenarios: each runs one round for one proxy and returns {result key: measurement}


def scenario_plain(ctx, name: str) -> dict:
    proxy = start_proxy(ctx, name, "plain")
    try:
        script = write_lua(ctx, "plain")
        return {f"plain-c{c}": measure(ctx, proxy, c, script) for c in (50, 200)}
    finally:
        proxy.stop()


def scenario_routes(ctx, name: str) -> dict:
    results = {}
    for variant in ("routes10", "routes10k"):
        proxy = start_proxy(ctx, name, variant)
        try:
            sweep = write_lua(ctx, f"{variant}-sweep")
            seconds = ROUTE_SWEEP_SECONDS if variant == "routes10k" else WARMUP_SECONDS
            result = measure(ctx, proxy, 50, write_lua(ctx, variant), warmup=(sweep, seconds))
            result["rss_mib"] = tree_rss_kb(proxy.root_pid())[0] / 1024  # after the run
            result["startup_s"] = proxy.startup_seconds
            results[variant] = result
        finally:
            proxy.stop()
    return results


def scenario_reload(ctx, name: str) -> dict:
    proxy = start_proxy(ctx, name, "reload")
    try:
        def reloader(stop: threading.Event) -> None:
            next_at = time.time()
            while not stop.is_set():
                try:
                    proxy.reload()
                except OSError as error:
                    log(f"    reload failed: {error}")
                next_at += 0.1
                stop.wait(max(0.0, next_at - time.time()))

        if hasattr(proxy, "reload_metric"):
            proxy.reload_base = proxy.reload_metric() or 0.0
        result = measure(ctx, proxy, 50, write_lua(ctx, "plain"), during=reloader)
        time.sleep(1.0 if name in ("portico", BASELINE, "envoy") else 0.2)  # let the last change be picked up
        result["reloads"] = proxy.reloads_applied()
        result["mode"] = proxy.reload_label
        return {"reload": result}
    finally:
        proxy.stop()


def measure_once(ctx, name: str, variant: str, key: str, connections: int, script, **options) -> dict:
    """Starts the proxy for `variant`, takes one measurement under `key`, and stops it."""
    proxy = start_proxy(ctx, name, variant)
    try:
        return {key: measure(ctx, proxy, connections, script, **options)}
    finally:
        proxy.stop()


def scenario_large(ctx, name: str) -> dict:
    return measure_once(ctx, name, "plain", "large-body", 50, write_lua(ctx, "large"), path="/large.bin")


def scenario_conn_memory(ctx, name: str) -> dict:
    proxy = start_proxy(ctx, name, "plain")
    try:
        run_wrk(ctx, proxy.port, 50, WARMUP_SECONDS, write_lua(ctx, "plain"))
        time.sleep(1.0)
        before, _ = tree_rss_kb(proxy.root_pid())
        t0 = time.time()
        idle, failed = open_idle_connections(proxy.port, ctx.idle_connections)
        open_seconds = time.time() - t0
        try:
            time.sleep(2.0)
            after, parts = tree_rss_kb(proxy.root_pid())
            remaining = still_open(idle)
        finally:
            for sock in idle:
                sock.close()
        established = len(idle)
        per_conn = (after - before) / established if established else None
        detail = ", ".join(f"{kb / 1024:.1f}" for _, kb in parts)
        return {"conn-memory": {"rss_before_mib": before / 1024, "rss_after_mib": after / 1024,
                                "kb_per_conn": per_conn, "established": established, "failed": failed,
                                "still_open": remaining, "open_seconds": open_seconds,
                                "processes": detail}}
    finally:
        proxy.stop()


def scenario_tls(ctx, name: str) -> dict:
    return measure_once(ctx, name, "tls", "tls-c50", 50, write_lua(ctx, "plain"))


def scenario_h2(ctx, name: str) -> dict:
    return measure_once(ctx, name, "tls", "h2-c10", 10, None, h2=True)


def scenario_h2_upstream(ctx, name: str) -> dict:
    return measure_once(ctx, name, "h2up", "h2up-c50", 50, write_lua(ctx, "plain"))


def scenario_access_log(ctx, name: str) -> dict:
    proxy = start_proxy(ctx, name, "logged")
    try:
        result = measure(ctx, proxy, 50, write_lua(ctx, "plain"))
    finally:
        proxy.stop()
    # Stopped, every proxy has written out what it buffered. A run that logged less than it served measured
    # something else.
    log = proxy.log_path if name == "haproxy" else proxy.access_log
    text = log.read_bytes() if log.exists() else b""
    log.write_bytes(b"")  # hundreds of MiB per run otherwise, in every round
    lines = text.count(b"\n")
    served = result["requests"] + result["warmup_requests"]
    if lines < 0.99 * served:
        raise StartError(f"logged {lines:,} lines for {served:,} requests")
    result["lines_per_request"] = lines / served
    result["bytes_per_line"] = len(text) / lines
    return {"access-log-c50": result}


def scenario_cors(ctx, name: str) -> dict:
    return measure_once(ctx, name, "cors", "cors-c50", 50, write_lua(ctx, "cors"))


SCENARIO_RUNNERS = {"plain": scenario_plain, "routes-10k": scenario_routes, "reload": scenario_reload,
                    "conn-memory": scenario_conn_memory, "large-body": scenario_large, "tls": scenario_tls,
                    "h2": scenario_h2, "h2-upstream": scenario_h2_upstream, "access-log": scenario_access_log,
                    "cors": scenario_cors}


def start_proxy(ctx, name: str, variant: str) -> Proxy:
    proxy = PROXY_CLASSES[name](ctx, variant)
    try:
        proxy.start()
    except BaseException:
        proxy.stop()
        raise
    return proxy


# ---------------------------------------------------------------------------------------------
# Reporting


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "ms":
        ms = value / 1000
        return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"
    if kind == "f1":
        return f"{value:.1f}"
    if kind == "f2":
        return f"{value:.2f}"
    if kind == "ratio":
        return f"{value:.2f}×"
    return str(value)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    align = ["---"] * text_columns + ["---:"] * (len(header) - text_columns)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class Report:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.runs: dict[tuple[str, str], list[dict]] = {}
        self.failures: dict[tuple[str, str], str] = {}

    def add(self, key: str, proxy: str, result: dict) -> None:
        self.runs.setdefault((key, proxy), []).append(result)

    def med(self, key: str, proxy: str, field: str):
        return median([r.get(field) for r in self.runs.get((key, proxy), [])])

    def proxies(self) -> list[str]:
        return self.ctx.proxies

    def failure_rows(self, scenario: str, width: int) -> list[list[str]]:
        rows = []
        for name in self.proxies():
            message = self.failures.get((scenario, name))
            if message:
                text = message if message.startswith("not applicable") else f"failed: {message}"
                rows.append([name, text] + [""] * (width - 2))
        return rows

    def load_table(self, key: str, scenario: str) -> str:
        header = ["proxy", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "CPU µs/req", "user µs/req", "proxy CPU %",
                  "errors"]
        fields = [("rps", "int"), ("p50_us", "ms"), ("p99_us", "ms"), ("p999_us", "ms"),
                  ("cpu_us_per_req", "f1"), ("user_us_per_req", "f1"), ("cpu_percent", "int"), ("errors", "int")]
        if self.ctx.syscalls:
            header.append("syscalls/req")
            fields.append(("syscalls_per_req", "f1"))
        rows = []
        for name in self.proxies():
            if (key, name) in self.runs:
                rows.append([name] + [fmt(self.med(key, name, f), k) for f, k in fields])
        rows += self.failure_rows(scenario, len(header))
        text = table(header, rows)
        compared = [field for field in fields if field[0] not in ("cpu_percent", "errors")]
        return text + "\n\n" + self.ratio_table(key, compared)

    def ratio_table(self, key: str, fields) -> str:
        if ("portico" not in self.proxies() or (key, "portico") not in self.runs
                or not any((key, p) in self.runs for p in self.proxies() if p != "portico")):
            return ""
        names = {"rps": "req/s", "p50_us": "p50", "p99_us": "p99", "p999_us": "p99.9",
                 "cpu_us_per_req": "CPU/req", "user_us_per_req": "user CPU/req", "syscalls_per_req": "syscalls/req",
                 "kb_per_conn": "KB/conn", "rss_mib": "RSS"}
        header = ["Portico ÷ peer"] + [names[f] for f, _ in fields]
        rows = []
        for peer in self.proxies():
            if peer == "portico" or (key, peer) not in self.runs:
                continue
            # The floor answers HTTP/2 streams itself: a bound, not a like-for-like comparison.
            label = f"vs {peer} (no upstream)" if peer == "nio-floor" and key.startswith("h2-") else f"vs {peer}"
            rows.append([label] + [fmt(ratio(self.med(key, "portico", f), self.med(key, peer, f)), "ratio")
                                          for f, _ in fields])
        return table(header, rows)

    def routes_table(self) -> str:
        header = ["proxy", "req/s 10 routes", "req/s 10k routes", "10k ÷ 10 req/s", "p99 ms 10 routes",
                  "p99 ms 10k routes", "CPU µs/req 10", "CPU µs/req 10k", "10k ÷ 10 CPU/req",
                  "RSS MiB 10 (after)", "RSS MiB 10k (after)", "start s 10k", "first-use sweep req/s 10k", "errors 10k"]
        rows = []
        for name in self.proxies():
            if ("routes10k", name) not in self.runs and ("routes10", name) not in self.runs:
                continue
            m10 = lambda f: self.med("routes10", name, f)  # noqa: E731
            m10k = lambda f: self.med("routes10k", name, f)  # noqa: E731
            rows.append([name, fmt(m10("rps"), "int"), fmt(m10k("rps"), "int"),
                         fmt(ratio(m10k("rps"), m10("rps")), "ratio"),
                         fmt(m10("p99_us"), "ms"), fmt(m10k("p99_us"), "ms"),
                         fmt(m10("cpu_us_per_req"), "f1"), fmt(m10k("cpu_us_per_req"), "f1"),
                         fmt(ratio(m10k("cpu_us_per_req"), m10("cpu_us_per_req")), "ratio"),
                         fmt(m10("rss_mib"), "f1"), fmt(m10k("rss_mib"), "f1"),
                         fmt(m10k("startup_s"), "f2"), fmt(m10k("warmup_rps"), "int"), fmt(m10k("errors"), "int")])
        rows += self.failure_rows("routes-10k", len(header))
        fields = [("rps", "int"), ("p50_us", "ms"), ("p99_us", "ms"), ("p999_us", "ms"),
                  ("cpu_us_per_req", "f1"), ("rss_mib", "f1")]
        return (table(header, rows) + "\n\nAt 10,000 routes:\n\n" + self.ratio_table("routes10k", fields))

    def reload_table(self) -> str:
        header = ["proxy", "how", "req/s", "vs own plain c50", "errors", "of which status ≥ 400", "p99 ms",
                  "p99.9 ms", "CPU µs/req", "config changes per run"]
        rows = []
        for name in self.proxies():
            if ("reload", name) not in self.runs:
                continue
            runs = self.runs[("reload", name)]
            rps = self.med("reload", name, "rps")
            rows.append([name, runs[0]["mode"], fmt(rps, "int"),
                         fmt(ratio(rps, self.med("plain-c50", name, "rps")), "ratio"),
                         fmt(self.med("reload", name, "errors"), "int"), fmt(self.med("reload", name, "status"), "int"),
                         fmt(self.med("reload", name, "p99_us"), "ms"), fmt(self.med("reload", name, "p999_us"), "ms"),
                         fmt(self.med("reload", name, "cpu_us_per_req"), "f1"),
                         " / ".join(dict.fromkeys(r["reloads"] for r in runs))])
        rows += self.failure_rows("reload", len(header))
        fields = [("rps", "int"), ("p99_us", "ms"), ("p999_us", "ms"), ("cpu_us_per_req", "f1")]
        return table(header, rows, text_columns=2) + "\n\n" + self.ratio_table("reload", fields)

    def memory_table(self) -> str:
        header = ["proxy", "RSS before MiB", "RSS after MiB", "KB per connection", "established", "failed",
                  "still open after 2 s", "RSS by process MiB (after)"]
        rows = []
        for name in self.proxies():
            key = ("conn-memory", name)
            if key not in self.runs:
                continue
            runs = self.runs[key]
            rows.append([name, fmt(self.med(*key, "rss_before_mib"), "f1"), fmt(self.med(*key, "rss_after_mib"), "f1"),
                         fmt(self.med(*key, "kb_per_conn"), "f2"), fmt(self.med(*key, "established"), "int"),
                         fmt(self.med(*key, "failed"), "int"), fmt(self.med(*key, "still_open"), "int"),
                         runs[-1]["processes"]])
        rows += self.failure_rows("conn-memory", len(header))
        return table(header, rows) + "\n\n" + self.ratio_table("conn-memory", [("kb_per_conn", "f2")])

    def logged_table(self) -> str:
        """What each proxy wrote in the access-log scenario: a line per request, and how long a line is."""
        rows = [[name, fmt(self.med("access-log-c50", name, "lines_per_request"), "f2"),
                 fmt(self.med("access-log-c50", name, "bytes_per_line"), "int")]
                for name in self.proxies() if ("access-log-c50", name) in self.runs]
        return table(["proxy", "lines logged ÷ requests served", "bytes per line"], rows)

    def render(self, elapsed: float) -> str:
        ctx = self.ctx
        parts = [f"# Portico load benchmark, {ctx.started:%Y-%m-%d %H:%M:%S}", "", ctx.describe(elapsed), ""]
        if "plain" in ctx.scenarios:
            for c in (50, 200):
                parts += [f"## plain, {c} connections", "",
                          f"HTTP/1.1 keep-alive, 2-byte body from the upstream, {c} connections.", "",
                          self.load_table(f"plain-c{c}", "plain"), ""]
        if "routes-10k" in ctx.scenarios:
            parts += ["## routes-10k", "",
                      f"{HOSTS_10K:,} hosts × {ROUTES_PER_HOST} routes (half exact, half prefix), requests spread at "
                      "random over every host and route, against the same 10 routes on one host (50 connections).",
                      "", self.routes_table(), ""]
        if "reload" in ctx.scenarios:
            parts += ["## reload", "",
                      "50 connections while the configuration changes every 100 ms (a route /reload-N is added). "
                      "Errors are socket errors plus responses with status ≥ 400; \"vs own plain c50\" compares with "
                      "the same proxy's plain run at 50 connections.", "", self.reload_table(), ""]
        if "conn-memory" in ctx.scenarios:
            parts += ["## conn-memory", "",
                      f"Resident memory (VmRSS, all processes of the proxy) before and after opening "
                      f"{ctx.idle_connections:,} idle keep-alive connections (each sent one request and read its "
                      "response).", "", self.memory_table(), ""]
        if "large-body" in ctx.scenarios:
            parts += ["## large-body", "", "1 MiB responses, 50 connections.", "",
                      self.load_table("large-body", "large-body"), ""]
        if "tls" in ctx.scenarios:
            parts += ["## tls", "", "HTTPS (TLS 1.3, P-256 certificate) with keep-alive, 2-byte body, 50 connections; "
                      "plain HTTP/1.1 to the upstream.", "", self.load_table("tls-c50", "tls"), ""]
        if "h2" in ctx.scenarios:
            parts += ["## h2", "", f"HTTP/2 over TLS (h2 by ALPN), 10 connections × {H2_STREAMS} concurrent streams "
                      "(h2load), 2-byte body; plain HTTP/1.1 to the upstream. h2load reports no percentiles: latency "
                      "columns are empty.", "", self.load_table("h2-c10", "h2"), ""]
        if "h2-upstream" in ctx.scenarios:
            parts += ["## h2-upstream", "", "HTTP/1.1 keep-alive clients (50 connections, 2-byte body); HTTP/2 "
                      "with prior knowledge (h2c) to the upstream, so the requests of every client share the "
                      "streams of few upstream connections.", "", self.load_table("h2up-c50", "h2-upstream"), ""]
        if "access-log" in ctx.scenarios:
            parts += ["## access-log", "", "The plain scenario at 50 connections with every request logged to a "
                      "file: Portico its JSON lines; nginx the same fields as JSON, buffered as Portico buffers "
                      "(64 KiB or 100 ms); Envoy its default format (flushed every second); HAProxy its HTTP log "
                      "format on standard output.", "", self.load_table("access-log-c50", "access-log"), "",
                      self.logged_table(), ""]
        if "cors" in ctx.scenarios:
            parts += ["## cors", "", f"The plain scenario at 50 connections with CORS on the route, every request "
                      f"from the allowed origin (Origin: {CORS_ORIGIN}), so every answer gets "
                      f"Access-Control-Allow-Origin, Access-Control-Expose-Headers: {CORS_EXPOSE} and Vary: Origin; "
                      "each proxy is checked for that answer (and none to other origins) before it is measured.",
                      "", self.load_table("cors-c50", "cors"), ""]
        return "\n".join(parts).replace("\n\n\n", "\n\n")


# ---------------------------------------------------------------------------------------------
# Main


class Context:
    def __init__(self, args) -> None:
        self.scenarios = args.scenarios
        self.rounds = args.rounds
        self.duration = args.duration
        self.proxies = args.proxies
        self.syscalls = args.syscalls
        self.portico = args.portico
        self.portico_baseline = args.portico_baseline
        self.nio_floor = args.nio_floor
        self.envoy = shutil.which("envoy")
        self.started = datetime.datetime.now()
        self.procs = Processes()
        self.work = Path(tempfile.mkdtemp(prefix="portico-bench-"))
        os.chmod(self.work, 0o755)  # nginx workers may run as another user
        self.portico_built = None
        if "portico" in self.proxies and os.access(self.portico, os.X_OK):
            # Measure a copy, so that a rebuild during the run cannot swap the binary halfway.
            source = Path(self.portico)
            self.portico_built = datetime.datetime.fromtimestamp(source.stat().st_mtime)
            self.portico = str(self.work / "portico")
            shutil.copy2(source, self.portico)
        self.portico_baseline_built = None
        if BASELINE in self.proxies and os.access(self.portico_baseline, os.X_OK):
            source = Path(self.portico_baseline)
            self.portico_baseline_built = datetime.datetime.fromtimestamp(source.stat().st_mtime)
            self.portico_baseline = str(self.work / BASELINE)
            shutil.copy2(source, self.portico_baseline)
        self.nofile = raise_nofile()
        # HAProxy reserves two descriptors per connection (client and server side); the idle
        # connection count is the same for every proxy, so it stays within what HAProxy can hold.
        self.proxy_connections = min(WANTED_CONNECTIONS, self.nofile)
        self.haproxy_maxconn = min(WANTED_CONNECTIONS, (self.nofile - 100) // 2)
        self.idle_connections = min(args.idle_connections, self.haproxy_maxconn - 100)
        self.pinning = pin_cpus()
        self.load_cpus = {LOAD_CPU} if self.pinning else None
        self.proxy_cpus = {PROXY_CPU} if self.pinning else None
        self.upstream: Upstream | None = None
        self.interference: list[float] = []

    def describe(self, elapsed: float) -> str:
        cpu = "unknown CPU"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        lines = [
            f"- machine: {os.cpu_count()} cores, {cpu}, Linux {platform.release()}",
            f"- versions: {'; '.join(versions(self))}",
            f"- pinning: {self.pinning or 'none (fewer than 2 CPUs available)'}",
            f"- rounds: {self.rounds}, {self.duration:g} s per measured run after a {WARMUP_SECONDS:g} s warm-up; "
            "each figure is the median over rounds; proxies alternate within each round",
            f"- every proxy: one worker/thread/event loop, keep-alive to the upstream, no access log (but in "
            f"access-log); "
            f"connection limit {self.proxy_connections:,} (HAProxy maxconn {self.haproxy_maxconn:,}; "
            f"RLIMIT_NOFILE {self.nofile:,})",
            "- Portico ÷ peer: above 1× is better for req/s, below 1× is better for latency, CPU, "
            "syscalls and memory",
            f"- total time: {elapsed / 60:.1f} min",
        ]
        if BASELINE in self.proxies:
            lines.insert(-1, f"- {BASELINE} is a second Portico binary (--portico-baseline), measured right after "
                         "portico in every round: its row in the ratio tables compares the two builds")
        if "nio-floor" in self.proxies:
            lines.insert(-1, "- nio-floor is not a gateway but the least work any gateway on SwiftNIO does "
                         "(bench/README.md): HTTP/1.1 relayed byte for byte; in h2 it answers every stream itself, "
                         "with no upstream")
        if self.interference:
            lines.insert(3, f"- the proxy's core spent a median {statistics.median(self.interference):.0f} % "
                         f"(at most {max(self.interference):.0f} %) of each measured run on other work "
                         "(other processes, interrupts); high values mean a noisy machine")
        return "\n".join(lines)


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for wanted in (65536, hard):
        try:
            new_hard = max(hard, wanted) if hard != resource.RLIM_INFINITY else hard
            limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, new_hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, new_hard))
            return limit
        except (ValueError, OSError):
            continue
    return soft


def pin_cpus() -> str | None:
    try:
        available = os.sched_getaffinity(0)
    except AttributeError:
        return None
    if not {LOAD_CPU, PROXY_CPU} <= available:
        return None
    os.sched_setaffinity(0, {LOAD_CPU})  # this driver; wrk and the upstream inherit it
    return (f"proxy under test on CPU {PROXY_CPU}; wrk, the upstream nginx and the driver on CPU {LOAD_CPU} "
            "(sched_setaffinity, as taskset -c)")


def versions(ctx) -> list[str]:
    def first_line(argv) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            text = (done.stdout + done.stderr).strip()
            return text.splitlines()[0] if text else "?"
        except (OSError, subprocess.TimeoutExpired):
            return "not installed"

    found = []
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    built = f" built {ctx.portico_built:%Y-%m-%d %H:%M}" if ctx.portico_built else ""
    found.append(f"Portico {commit or '(unknown commit)'} (binary{built})")
    if BASELINE in ctx.proxies:
        built = f" built {ctx.portico_baseline_built:%Y-%m-%d %H:%M}" if ctx.portico_baseline_built else ""
        found.append(f"{BASELINE}: the baseline Portico binary{built}")
    if "nio-floor" in ctx.proxies:
        found.append(f"nio-floor on {swift_package_versions(['swift-nio', 'swift-nio-ssl', 'swift-nio-http2'])}")
    for name, argv in (("nginx", ["nginx", "-v"]), ("haproxy", ["haproxy", "-v"]), ("envoy", [ctx.envoy or "envoy", "--version"])):
        if name in ctx.proxies:
            found.append(version_of(name, first_line(argv)))
    found.append(first_line(["wrk", "-v"]).split(" Copyright")[0])
    return found


def swift_package_versions(names: list[str]) -> str:
    """The resolved versions of these packages, from Package.resolved."""
    try:
        pins = json.loads((REPO / "Package.resolved").read_text()).get("pins", [])
    except (OSError, ValueError):
        return "unknown package versions"
    found = {pin.get("identity"): pin.get("state", {}).get("version") for pin in pins}
    return ", ".join(f"{name} {found.get(name) or '?'}" for name in names)


def version_of(name: str, line: str) -> str:
    """Just the product and version number (the raw lines can carry install paths)."""
    if name == "nginx":
        match = re.search(r"nginx/(\S+)", line)
    elif name == "haproxy":
        match = re.search(r"version (\S+)", line)
    else:
        match = re.search(r"version: [0-9a-f]+/([^/\s]+)", line)
    label = {"nginx": "nginx", "haproxy": "HAProxy", "envoy": "Envoy"}[name]
    return f"{label} {match.group(1)}" if match else f"{label} (unknown version)"


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="bench/run.sh",
        description="Benchmark Portico against nginx, HAProxy, Envoy and the SwiftNIO floor on loopback.")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument("--proxies", default=",".join(PROXIES),
                        help=f"comma-separated, in running order ({BASELINE} too, with --portico-baseline)")
    parser.add_argument("--syscalls", action="store_true",
                        help="also count system calls per request (a separate short run under strace -c)")
    parser.add_argument("--idle-connections", type=int, default=10000,
                        help="connections opened by conn-memory (default 10000)")
    parser.add_argument("--portico", default=str(REPO / ".build" / "release" / "portico"),
                        help="the Portico binary (default: the release build)")
    parser.add_argument("--portico-baseline", metavar="PATH",
                        help=f"a second Portico binary, measured as {BASELINE} right after portico (e.g. the build "
                        "before a change)")
    parser.add_argument("--nio-floor", default=str(REPO / ".build" / "release" / "NIOFloorBenchmark"),
                        help="the SwiftNIO floor binary (default: the release build)")
    parser.add_argument("--results", default=str(REPO / "bench" / "results"), help="where the Markdown goes")
    args = parser.parse_args(argv)
    args.scenarios = args.scenarios or list(SCENARIOS)
    for scenario in args.scenarios:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    args.proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    for proxy in args.proxies:
        if proxy == BASELINE and not args.portico_baseline:
            parser.error(f"{BASELINE} needs --portico-baseline PATH, the binary it runs")
        if proxy not in PROXIES and proxy != BASELINE:
            parser.error(f"unknown proxy {proxy!r}; choose from {', '.join(PROXIES)}")
    if args.portico_baseline and BASELINE not in args.proxies:
        # Side by side with the other build: right after portico in each round.
        at = args.proxies.index("portico") + 1 if "portico" in args.proxies else 0
        args.proxies.insert(at, BASELINE)
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return args


def missing_binary(ctx, name: str) -> str | None:
    binary = {"portico": ctx.portico, BASELINE: ctx.portico_baseline, "nginx": "nginx", "haproxy": "haproxy",
              "envoy": ctx.envoy, "nio-floor": ctx.nio_floor}[name]
    if binary is None or (shutil.which(binary) is None and not os.access(binary, os.X_OK)):
        return "not installed"
    return None


def main(argv) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            log(f"{tool} is needed (bench/run.sh installs it)")
            return 2

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    ctx = Context(args)
    report = Report(ctx)
    begin = time.time()
    try:
        log(f"pinning: {ctx.pinning or 'none (fewer than 2 CPUs available)'}")
        log(f"scenarios: {' '.join(ctx.scenarios)}; proxies: {' '.join(ctx.proxies)}; "
            f"rounds: {ctx.rounds}; duration: {ctx.duration:g} s")
        if "conn-memory" in ctx.scenarios and ctx.idle_connections < args.idle_connections:
            log(f"conn-memory: {ctx.idle_connections:,} connections (RLIMIT_NOFILE {ctx.nofile:,} leaves HAProxy "
                f"room for {ctx.haproxy_maxconn:,})")
        ctx.upstream = Upstream(ctx)
        skipped = {name: missing_binary(ctx, name) for name in ctx.proxies}
        for scenario in ctx.scenarios:
            for round_number in range(1, ctx.rounds + 1):
                for name in ctx.proxies:
                    if skipped[name]:
                        report.failures[(scenario, name)] = skipped[name]
                        continue
                    if (scenario, name) in report.failures:
                        continue  # it failed to start in an earlier round
                    log(f"[{scenario} round {round_number}/{ctx.rounds}] {name}")
                    try:
                        only = PROXY_CLASSES[name].scenarios
                        if only is not None and scenario not in only:
                            raise NotApplicable(f"measured in {', '.join(s for s in SCENARIOS if s in only)} only")
                        results = SCENARIO_RUNNERS[scenario](ctx, name)
                    except NotApplicable as error:
                        log(f"    {name}: not applicable: {error}")
                        report.failures[(scenario, name)] = f"not applicable: {error}"
                        continue
                    except StartError as error:
                        message = str(error).splitlines()[0].rstrip(":")
                        log(f"    {name} failed to start: {error}")
                        report.failures[(scenario, name)] = f"did not start ({message})"
                        continue
                    except Exception as error:  # noqa: BLE001 - one proxy's failure must not end the run
                        log(f"    {name}: {type(error).__name__}: {error}")
                        report.failures[(scenario, name)] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                        continue
                    for key, result in results.items():
                        report.add(key, name, result)
                        log("    " + summary_line(key, result))
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        ctx.procs.stop_all()
        print(report.render(time.time() - begin))
        return 130
    finally:
        ctx.procs.stop_all()
        shutil.rmtree(ctx.work, ignore_errors=True)

    markdown = report.render(time.time() - begin)
    print(markdown)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.md").write_text(markdown)
    (results / f"{ctx.started:%Y%m%d-%H%M%S}.md").write_text(markdown)
    log(f"written: {results / 'latest.md'} and {results / f'{ctx.started:%Y%m%d-%H%M%S}.md'}")
    return 0


def summary_line(key: str, result: dict) -> str:
    if key == "conn-memory":
        return (f"{key}: {result['established']:,} open, {result['failed']} failed, RSS {result['rss_before_mib']:.1f} → "
                f"{result['rss_after_mib']:.1f} MiB, {fmt(result['kb_per_conn'], 'f2')} KB/conn")
    text = (f"{key}: {result['rps']:,.0f} req/s, p50 {fmt(result['p50_us'], 'ms')} ms, p99 {fmt(result['p99_us'], 'ms')} ms, "
            f"p99.9 {fmt(result['p999_us'], 'ms')} ms, CPU {fmt(result['cpu_us_per_req'], 'f1')} µs/req "
            f"(user {fmt(result.get('user_us_per_req'), 'f1')}, {result['cpu_percent']:.0f} %), errors {result['errors']}")
    if "reloads" in result:
        text += f", config changes: {result['reloads']}"
    if result.get("syscalls_per_req") is not None:
        text += f", {result['syscalls_per_req']:.1f} syscalls/req"
    return text


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
