#!/usr/bin/env python3
"""The OWASP Core Rule Set 3.3.4 regression tests (tests/regression/tests/**/*.yaml, ftw format) run against
Portico's WAF and, side by side, against nginx with libnginx-mod-http-modsecurity: the same libmodsecurity3,
the same rule files (Debian's /usr/share/modsecurity-crs/rules/*.conf) and the same settings, as CRS's own CI
ran them at v3.3.4 (tests/docker-compose.yml, .github/workflows/test.yml): paranoia level 4, DetectionOnly,
response bodies read, combined_file_sizes 65535, crs-setup.conf.example's defaults otherwise; verdicts read
from the log the WAF writes its matches to.

  Portico  a VirtualHost (domains ["*"]) whose options.trafficPolicy.waf is the Core Rule Set with the
           settings below as customSettingsString; its matches go to the file --waf-log names.
  nginx    `modsecurity on; modsecurity_rules_file main.conf;` where main.conf holds what Portico's engine
           settings hold (rules 200000-200002, body access, response MIME types), the same settings, then
           the rule files; its matches go to its error log (the connector logs them at `info`).

Both proxy to one nginx answering 200 "ok". Each test's stages are sent in turn over a raw socket, built as
ftw 1.3.0 (the CI's runner) builds them: raw_request / encoded_request as is, or the request line, the headers
in order, and the data (a list joined with CRLF; without stop_magic a default Content-Type
application/x-www-form-urlencoded, an unencoded form body url-encoded, and a Content-Length). The lines the WAF
logs for a stage are those appended to its log between the request and a short settling time after the
response; log_contains / no_log_contains are regular expressions over them, status an int or a list,
expect_error passes when the exchange fails or the server answers 400. A test passes when all its stages do.
A server that dies is started again and the run goes on; its crashes are in the summary.

  bench/crs-regression.py [--servers portico,nginx] [--filter REGEX] [--failures FILE] [--keep]
                          [--portico PATH] --crs CHECKOUT

CHECKOUT is a clone of https://github.com/coreruleset/coreruleset (a bare one will do): the tests are read
from its tag v3.3.4.
"""
import argparse, base64, collections, encodings.aliases, glob, json, os, re, shutil, socket, subprocess, sys, tempfile, time
from urllib.parse import parse_qsl, unquote, urlencode

from loopback import CRS_RULES, ENGINE_SETTINGS, free_port, modsecurity_nginx_conf, portico_manifests, upstream_nginx_conf

try:
    import yaml
except ImportError:
    sys.exit("PyYAML is needed: pip install pyyaml")

SERVERS = ["portico", "nginx"]
CRS_TAG = "v3.3.4"
RESPONSE_TIMEOUT = 2.0  # seconds to wait for a whole response
LOG_WAIT = 0.3  # seconds to wait for a stage's first log line after its response
LOG_SETTLE = 0.05  # once lines come, this long without more ends the stage's lines

# What CRS's CI ran with (tests/docker-compose.yml at v3.3.4, service modsec2-apache, the only one in the
# matrix of .github/workflows/test.yml): crs-setup.conf.example copied to crs-setup.conf (its uncommented
# lines: the two SecDefaultAction, SecCollectionTimeout, rule 900990), then the image's activate-rules.sh
# turning environment variables into SecActions: PARANOIA=4 (900000), ANOMALY_INBOUND=5 / ANOMALY_OUTBOUND=4
# (900110, the image's defaults), COMBINED_FILE_SIZES=65535 (900350); MODSEC_RULE_ENGINE=DetectionOnly;
# the image's modsecurity-override.conf: request body limits and PCRE limits (MODSEC_PCRE_MATCH_LIMIT=100000).
# MODSEC_RESP_BODY_ACCESS=On and MODSEC_RESP_BODY_MIMETYPE="text/plain text/html text/xml application/json"
# are Portico's engine settings already (and the nginx side's main.conf). crs_validate_utf8_encoding is not
# set by the CI: 920250.yaml, which needs it, is disabled (meta.enabled: false), as are 920360-920390.
CI_SETTINGS = """SecRuleEngine DetectionOnly
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"
SecCollectionTimeout 600
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=4"
SecAction "id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4"
SecAction "id:900350,phase:1,nolog,pass,t:none,setvar:tx.combined_file_sizes=65535"
SecAction "id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=334"
"""

def wait_port(port, seconds=20, process=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def portico_config(upstream, settings):
    # JSON strings are YAML strings: the settings go in with their newlines and quotes intact.
    return portico_manifests(upstream, host_options=f"""
  options:
    trafficPolicy:
      waf:
        coreRuleSet:
          customSettingsString: {json.dumps(settings)}""")


def modsecurity_conf(prefix, port, upstream):
    # The connector logs ModSecurity's lines at `info` (ngx_http_modsecurity_log: NGX_LOG_INFO), which is
    # why the CI's modsec3-nginx service sets LOGLEVEL=info; at `warn` only blocking interventions show.
    # Headers nginx would drop before ModSecurity sees them (underscores, odd characters) are kept, as
    # Apache (the CI's server) keeps them.
    return modsecurity_nginx_conf(prefix, port, upstream, f"{prefix}/main.conf", log_level="info",
                                  server_extra="underscores_in_headers on; ignore_invalid_headers off;")


def crs_tests(source, work):
    """The tests folder of CRS at CRS_TAG: archived from a bare repository, or a checkout's own."""
    bare = subprocess.run(["git", "-C", source, "rev-parse", "--is-bare-repository"], capture_output=True,
                          text=True).stdout.strip() == "true"
    if bare:
        target = os.path.join(work, "crs")
        os.makedirs(target)
        archive = subprocess.Popen(["git", "-C", source, "archive", CRS_TAG, "tests", "rules",
                                    "crs-setup.conf.example"], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", target], stdin=archive.stdout, check=True)
        archive.stdout.close()
        if archive.wait() != 0:
            sys.exit(f"git archive {CRS_TAG} failed in {source}")
        source = target
    folder = os.path.join(source, "tests", "regression", "tests")
    if not os.path.isdir(folder):
        sys.exit(f"no tests/regression/tests in {source}")
    return folder


def load_tests(folder, title_filter):
    """(title, stages) of each enabled test of each enabled file, in file order; as ftw, a file's
    meta.enabled: false turns off its tests, a test's own enabled: false turns off the test."""
    tests = []
    seen = collections.Counter()
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.yaml"), recursive=True)):
        with open(path, encoding="utf-8") as file:
            document = yaml.safe_load(file)
        if not document or not document.get("meta", {}).get("enabled", True):
            continue
        for test in document.get("tests") or []:
            if test.get("enabled", True) is False:
                continue
            title = str(test["test_title"])
            if title_filter and not re.search(title_filter, title):
                continue
            seen[title] += 1
            if seen[title] > 1:  # 941160-10 is there twice
                title = f"{title}#{seen[title]}"
            tests.append((title, [stage["stage"] for stage in test["stages"]]))
    return tests


def build_request(stage_input):
    """The request's bytes, as ftw 1.3.0's HttpUA.build_request makes them."""
    if stage_input.get("encoded_request") is not None:
        return base64.b64decode(stage_input["encoded_request"])
    if stage_input.get("raw_request") is not None:
        # ftw reads escapes (\r\n and the like) in the raw request once more
        return stage_input["raw_request"].encode("utf-8").decode("unicode_escape").encode("utf-8")
    method = str(stage_input.get("method", "GET"))
    uri = str(stage_input.get("uri", "/"))
    version = str(stage_input.get("version", "HTTP/1.1"))
    headers = dict(stage_input.get("headers") or {})
    data = stage_input.get("data", "")
    if data is None:
        data = ""
    if isinstance(data, list):
        data = "\r\n".join(str(part) for part in data)
    data = str(data)
    stop_magic = bool(stage_input.get("stop_magic", False))
    if data != "":
        if "Content-Type" not in headers and not stop_magic:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if headers.get("Content-Type") == "application/x-www-form-urlencoded" and not stop_magic:
            if unquote(data) == data:
                pairs = parse_qsl(data)
                if pairs:
                    data = urlencode(pairs)
        encoding = "utf-8"
        if "Content-Type" in headers and not stop_magic:
            found = re.search(r"\;\s{0,1}?charset\=(.*?)(?:$|\;|\s)", str(headers["Content-Type"]))
            if found:
                choice = found.group(1).replace("-", "_").lower()
                if choice in set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()):
                    encoding = choice
        body = data.encode(encoding, "strict")
        if "Content-Length" not in headers and not stop_magic:
            headers["Content-Length"] = len(body)
    else:
        body = b""
    head = f"{method} {uri} {version}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (head + "\r\n").encode("utf-8") + body


def response_complete(data, head_request):
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end].decode("latin-1")
    body = data[end + 4:]
    status = re.match(r"HTTP/\S+ (\d{3})", head)
    if not status:
        return False
    code = int(status.group(1))
    if code == 100:  # an interim answer: the real one follows
        return response_complete(body, head_request)
    if head_request or code in (204, 304) or 100 <= code < 200:
        return True
    length = re.search(r"\r\ncontent-length:\s*(\d+)", head, re.I)
    if length:
        return len(body) >= int(length.group(1))
    if re.search(r"\r\ntransfer-encoding:[^\r]*chunked", head, re.I):
        return body.endswith(b"0\r\n\r\n")
    return False  # until the server closes


def exchange(port, request, head_request):
    """Sends the request, reads the response: (status or None, error or None)."""
    deadline = time.time() + RESPONSE_TIMEOUT
    try:
        connection = socket.create_connection(("127.0.0.1", port), timeout=RESPONSE_TIMEOUT)
    except OSError as error:
        return None, f"connect failed: {error}"
    received = b""
    problem = None
    with connection:
        try:
            connection.sendall(request)
        except OSError as error:  # the server may have answered and closed before taking everything
            problem = f"send failed: {error}"
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                problem = problem or "timeout"
                break
            connection.settimeout(remaining)
            try:
                chunk = connection.recv(65536)
            except socket.timeout:
                problem = problem or "timeout"
                break
            except OSError as error:
                problem = f"receive failed: {error}"
                break
            if not chunk:
                break
            received += chunk
            if response_complete(received, head_request):
                break
    while received.startswith(b"HTTP/1.1 100") and b"\r\n\r\n" in received:
        received = received.split(b"\r\n\r\n", 1)[1]
    status = re.match(rb"HTTP/\S+ (\d{3})[ \r]", received)
    if status:
        return int(status.group(1)), None
    if not received:
        return None, f"no response ({problem or 'closed'})"
    return None, f"response without a status line ({problem or 'closed'}): {received[:40]!r}"


class LogFile:
    """The file the WAF's lines are appended to."""

    def __init__(self, path):
        self.path = path

    def size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def lines_since(self, offset):
        """What was appended after offset: waits up to LOG_WAIT for something, then until nothing more
        comes for LOG_SETTLE."""
        start = time.time()
        last_size, last_change = self.size(), time.time()
        while True:
            time.sleep(0.01)
            size = self.size()
            now = time.time()
            if size != last_size:
                last_size, last_change = size, now
            if size > offset and now - last_change >= LOG_SETTLE:
                break
            if size <= offset and now - start >= LOG_WAIT:
                break
            if now - start >= LOG_WAIT + 1:
                break
        with open(self.path, "rb") as file:
            file.seek(offset)
            data = file.read()
        return data.decode("utf-8", "replace").splitlines()


def rule_ids(lines):
    return sorted({found for line in lines for found in re.findall(r'\[id "(\d+)"\]', line)})


def run_stage(port, log, stage):
    """(passed, reason, short reason) of one stage."""
    stage_input, output = stage.get("input") or {}, stage.get("output") or {}
    try:
        request = build_request(stage_input)
    except Exception as error:  # ftw refuses such a request too (an unencodable body)
        if output.get("expect_error"):
            return True, None, None
        return False, f"request not built: {error}", "request not built"
    head_request = str(stage_input.get("method", "GET")).strip().upper() == "HEAD"
    offset = log.size()
    status, error = exchange(port, request, head_request)
    lines = log.lines_since(offset)
    ids = ",".join(rule_ids(lines)) or "none"
    problems, kinds = [], []
    if output.get("expect_error"):
        if error is None and status != 400:
            problems.append(f"expected an error or 400, got {status}")
            kinds.append(f"expect_error: got {status}")
    elif error is not None:
        return False, f"{error} (ids logged: {ids})", re.sub(r":.*", "", error)
    expected = output.get("status")
    if expected is not None and not (status in expected if isinstance(expected, list) else status == expected):
        problems.append(f"status {status}, expected {expected}")
        kinds.append(f"status {status}, expected {expected}")
    if "log_contains" in output and not any(re.search(output["log_contains"], line) for line in lines):
        problems.append(f"log_contains {output['log_contains']!r} not found")
        kinds.append(f"log_contains {output['log_contains']} missing")
    if "no_log_contains" in output and any(re.search(output["no_log_contains"], line) for line in lines):
        problems.append(f"no_log_contains {output['no_log_contains']!r} found")
        kinds.append(f"no_log_contains {output['no_log_contains']} present")
    if problems:
        return False, "; ".join(problems) + f" (status {status}, ids logged: {ids})", "; ".join(kinds)
    return True, None, None


class Server:
    """A server under test, started again when it dies: a crash is recorded, not the end of the run."""

    def __init__(self, name, argv, output, port, log_path, processes):
        self.name, self.argv, self.output, self.port = name, argv, output, port
        self.log = LogFile(log_path)
        self.processes = processes
        self.process = None
        self.crashes = []

    def start(self):
        self.output_offset = os.path.getsize(self.output) if os.path.exists(self.output) else 0
        with open(self.output, "a") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(self.process)
        if not wait_port(self.port, seconds=60, process=self.process):
            with open(self.output) as file:
                sys.exit(f"{self.name} did not start:\n{file.read()[-3000:]}")
        status, error = exchange(self.port, b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: crs-regression\r\n"
                                            b"Accept: */*\r\nConnection: close\r\n\r\n", False)
        if status != 200:
            sys.exit(f"{self.name} does not serve the upstream: {status or error}")
        time.sleep(LOG_WAIT)  # the readiness request's lines, if any, before the first test

    def died(self, wait):
        """Whether the server has exited, waiting up to `wait` seconds (a crashing process may take a few
        seconds writing its backtrace, answering nothing meanwhile)."""
        deadline = time.time() + wait
        while self.process.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        return self.process.poll() is not None

    def restart_after_crash(self, noticed_at, previous):
        with open(self.output, "rb") as file:
            file.seek(self.output_offset)
            text = file.read().decode("utf-8", "replace")
        self.crashes.append({
            "noticed_during": noticed_at, "previous_test": previous, "exit_code": self.process.returncode,
            "message": [line.strip() for line in text.splitlines()
                        if re.search(r"Program crashed|free\(|malloc|Fatal error|corrupt|\bcrashed:$", line)][:4]})
        print(f"{self.name}: exited ({self.process.returncode}) during {noticed_at}; starting it again",
              file=sys.stderr)
        self.processes.remove(self.process)
        self.start()

    def stop(self):
        # SIGTERM: nginx's master stops its worker on it; the gateway stops too.
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.processes.remove(self.process)


def run_test(server, stages):
    outcome = (True, None, None)
    for stage in stages:
        outcome = run_stage(server.port, server.log, stage)
        if not outcome[0]:
            break
    return outcome


def run_tests(server, tests):
    started = time.time()
    results = {}
    previous = None
    for index, (title, stages) in enumerate(tests):
        outcome = run_test(server, stages)
        unanswered = outcome[2] is not None and outcome[2].startswith(("connect failed", "no response"))
        if server.died(10 if unanswered else 0):
            server.restart_after_crash(title, previous)
            if unanswered:  # the test met a dying server: it runs again on the new one
                outcome = run_test(server, stages)
        results[title] = outcome
        previous = title
        if (index + 1) % 200 == 0:
            failed = sum(1 for passed, _, _ in results.values() if not passed)
            print(f"{server.name}: {index + 1}/{len(tests)} tests, {failed} failed", file=sys.stderr)
    return results, time.time() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--portico", default=".build/release/portico")
    parser.add_argument("--crs", required=True,
                        help=f"a bare CRS repository (its tag {CRS_TAG} is used) or a checkout of it")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated, from " + ", ".join(SERVERS))
    parser.add_argument("--filter", help="a regular expression test titles must match")
    parser.add_argument("--failures", help="a file to write the failing tests to, one a line with the reason")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configurations and logs)")
    arguments = parser.parse_args()
    servers = [server for server in arguments.servers.split(",") if server]
    unknown = [server for server in servers if server not in SERVERS]
    if unknown or not servers:
        sys.exit(f"unknown servers: {', '.join(unknown)}" if unknown else "no servers")
    portico = os.path.abspath(arguments.portico)
    if "portico" in servers:
        usage = subprocess.run([portico, "gateway", "--help"], capture_output=True, text=True)
        if "--waf-log" not in usage.stdout + usage.stderr:
            sys.exit(f"{portico} gateway has no --waf-log (an older build?): give --portico")
    if not glob.glob(os.path.join(CRS_RULES, "*.conf")):
        sys.exit(f"no rule files in {CRS_RULES} (apt-get install modsecurity-crs)")
    work = tempfile.mkdtemp(prefix="portico-crs-regression-")
    processes = []
    try:
        tests = load_tests(crs_tests(arguments.crs, work), arguments.filter)
        if not tests:
            sys.exit("no tests")
        print(f"{len(tests)} tests, {sum(len(stages) for _, stages in tests)} stages", file=sys.stderr)
        settings = CI_SETTINGS
        upstream = free_port()
        prefix = os.path.join(work, "upstream")
        os.makedirs(prefix)
        with open(os.path.join(prefix, "nginx.conf"), "w") as file:
            file.write(upstream_nginx_conf(prefix, upstream))
        with open(f"{prefix}/nginx.out", "w") as out:
            processes.append(subprocess.Popen(["nginx", "-p", prefix, "-e", f"{prefix}/error.log", "-c",
                                               f"{prefix}/nginx.conf"], stdout=out, stderr=subprocess.STDOUT))
        if not wait_port(upstream):
            sys.exit("the upstream nginx did not start")
        summary, results = {}, {}
        for name in servers:
            port = free_port()
            if name == "portico":
                folder = os.path.join(work, "portico")
                os.makedirs(folder)
                with open(os.path.join(folder, "config.yaml"), "w") as file:
                    file.write(portico_config(upstream, settings))
                validation = subprocess.run([portico, "validate", folder], capture_output=True, text=True)
                if validation.returncode != 0:
                    sys.exit(f"portico validate {folder} failed:\n{validation.stdout}{validation.stderr}")
                log_path = os.path.join(work, "waf.log")
                server = Server(name, [portico, "gateway", "--config", folder, "--name", "bench", "--namespace",
                                       "bench", "--label", "gateway=bench", "--port", f"http={port}", "--admin",
                                       f"127.0.0.1:{free_port()}", "--threads", "1", "--access-log", "off",
                                       "--waf-log", log_path],
                                os.path.join(work, "portico-gateway.out"), port, log_path, processes)
            else:
                prefix = os.path.join(work, "nginx-modsecurity")
                os.makedirs(prefix)
                with open(os.path.join(prefix, "main.conf"), "w") as file:
                    file.write("# Portico's engine settings\n" + ENGINE_SETTINGS + "\n# CRS CI's settings\n" +
                               settings + f"\nInclude {CRS_RULES}/*.conf\n")
                with open(os.path.join(prefix, "nginx.conf"), "w") as file:
                    file.write(modsecurity_conf(prefix, port, upstream))
                check = subprocess.run(["nginx", "-t", "-p", prefix, "-e", f"{prefix}/error.log", "-c",
                                        f"{prefix}/nginx.conf"], capture_output=True, text=True)
                if check.returncode != 0:
                    sys.exit(f"nginx -t failed:\n{check.stderr}")
                log_path = os.path.join(prefix, "error.log")
                server = Server(name, ["nginx", "-p", prefix, "-e", log_path, "-c", f"{prefix}/nginx.conf"],
                                os.path.join(prefix, "nginx.out"), port, log_path, processes)
            server.start()
            outcomes, seconds = run_tests(server, tests)
            server.stop()
            results[name] = outcomes
            failed = sum(1 for passed, _, _ in outcomes.values() if not passed)
            kinds = collections.Counter(short for passed, _, short in outcomes.values() if not passed)
            summary[name] = {
                "total": len(outcomes), "passed": len(outcomes) - failed, "failed": failed,
                "pass_rate_percent": round(100 * (len(outcomes) - failed) / len(outcomes), 2),
                "seconds": round(seconds, 1), "crashes": server.crashes,
                "top_failure_reasons": [[reason, count] for reason, count in kinds.most_common(20)],
            }
        report = {"crs": CRS_TAG, "rules": CRS_RULES, "filter": arguments.filter, "settings": settings.splitlines(),
                  "servers": summary}
        if "portico" in results and "nginx" in results:
            portico_only = [title for title, outcome in results["portico"].items()
                            if not outcome[0] and results["nginx"][title][0]]
            nginx_only = [title for title, outcome in results["nginx"].items()
                          if not outcome[0] and results["portico"][title][0]]
            both = [title for title, outcome in results["portico"].items()
                    if not outcome[0] and not results["nginx"][title][0]]
            report["failed_by_both"] = len(both)
            report["failed_by_portico_only"] = {title: results["portico"][title][1] for title in portico_only}
            report["failed_by_nginx_only"] = {title: results["nginx"][title][1] for title in nginx_only}
        if arguments.failures:
            with open(arguments.failures, "w") as file:
                for server, outcomes in results.items():
                    for title, (passed, reason, _) in outcomes.items():
                        if not passed:
                            file.write(f"{server}\t{title}\t{reason}\n")
        print(json.dumps(report, indent=1))
        print(f"\n{'server':<10}{'tests':>7}{'passed':>8}{'failed':>8}{'pass %':>9}{'seconds':>9}{'crashes':>9}",
              file=sys.stderr)
        for server, figures in summary.items():
            print(f"{server:<10}{figures['total']:>7}{figures['passed']:>8}{figures['failed']:>8}"
                  f"{figures['pass_rate_percent']:>9.2f}{figures['seconds']:>9.1f}{len(figures['crashes']):>9}",
                  file=sys.stderr)
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if arguments.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
