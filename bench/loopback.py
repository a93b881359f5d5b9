"""What the loopback benchmarks share: free ports, a process's CPU time, the Portico manifests of a gateway
with one route, and the nginx configurations (the upstream that answers "ok", and nginx running
libmodsecurity3 with Portico's WAF engine settings and the Core Rule Set)."""
import os, socket, subprocess

CRS_SETUP = "/etc/modsecurity/crs/crs-setup.conf"
CRS_RULES = "/usr/share/modsecurity-crs/rules"
MODSECURITY_MODULE = "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so"

# Portico's WAF engine settings (GatewayTranslator.engineSettings, bodies inspected), the lines of
# ModSecurity's recommended configuration it starts from: nginx runs the same before its rules.
ENGINE_SETTINGS = r"""SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
  "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
  "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" \
  "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimitAction Reject
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecResponseBodyLimitAction ProcessPartial
SecArgumentSeparator &
SecCookieFormat 0
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """User and system CPU time a process and its children (nginx's workers) have used so far."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return total + sum(cpu_seconds(int(child)) for child in children)


def portico_manifests(upstream, host_options="", route_options="", other_routes="", extra=""):
    """A VirtualGateway for gateways labelled gateway=bench, a StaticDestination `upstream` on 127.0.0.1, and
    a VirtualHost (domains *) whose last route forwards everything there; options as YAML fragments."""
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
kind: VirtualHost
metadata: {{name: bench, namespace: bench, labels: {{site: bench}}}}
spec:
  domains: ["*"]{host_options}
  routes:{other_routes}
  - routeAction: {{destinations: [{{staticDestination: {{name: upstream}}}}]}}{route_options}
{extra}"""


def nginx_temp_paths(prefix):
    return (f"client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy; "
            f"fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;")


def upstream_nginx_conf(prefix, port, locations=""):
    """nginx answering 200 "ok" to everything on 127.0.0.1:port, but for the `locations` given (nginx
    configuration text)."""
    return f"""worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  {nginx_temp_paths(prefix)}
  keepalive_requests 1000000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok"; }} {locations}}}
}}
"""


def modsecurity_nginx_conf(prefix, port, upstream, rules_file, log_level="crit", server_extra=""):
    """nginx with one worker and libmodsecurity3 running `rules_file`, proxying to 127.0.0.1:upstream."""
    return f"""load_module {MODSECURITY_MODULE};
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log {log_level};
events {{ worker_connections 4096; }}
http {{
  access_log off;
  {nginx_temp_paths(prefix)}
  keepalive_requests 1000000000;
  client_max_body_size 16m;
  upstream backend {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  {server_extra}
  server {{
    listen 127.0.0.1:{port} default_server;
    server_name _;
    modsecurity on;
    modsecurity_rules_file {rules_file};
    location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
"""
