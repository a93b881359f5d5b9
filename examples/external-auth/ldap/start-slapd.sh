#!/usr/bin/env bash
# External auth example: a small OpenLDAP directory for the /intranet route (the `intranet` AuthConfig in
# ../auth.yaml).
#
#   examples/external-auth/ldap/start-slapd.sh [PORT [SEED.ldif]]
#
# starts slapd on 127.0.0.1:PORT (9389 by default) with the memberOf overlay, seeds it with SEED.ldif
# (seed.ldif beside this script by default; its first entry is the directory's suffix) so the overlay fills
# each user's groups, and prints slapd's process id; stop it with `kill PID`. The data goes to $SLAPD_DATA,
# or a new temporary folder. Needs Debian's slapd and ldap-utils.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:-9389}"
seed="${2:-$here/seed.ldif}"
suffix="$(sed -n 's/^dn: //p' "$seed" | head -1)"
data="${SLAPD_DATA:-$(mktemp -d)}"
mkdir -p "$data"
cat > "$data/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile $data/slapd.pid
database mdb
maxsize 16777216
suffix "$suffix"
rootdn "cn=admin,$suffix"
rootpw example-admin-password
directory $data
overlay memberof
CONF
# slapd runs on after this script: it must not keep any descriptor the script was given open, or whoever
# started the script may wait for it to close.
for fd in /proc/$$/fd/*; do
  fd="${fd##*/}"
  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
/usr/sbin/slapd -f "$data/slapd.conf" -h "ldap://127.0.0.1:$port/" </dev/null >/dev/null 2>&1
for _ in $(seq 1 100); do
  if ldapadd -x -H "ldap://127.0.0.1:$port" -D "cn=admin,$suffix" -w example-admin-password \
    -f "$seed" >/dev/null 2>&1; then
    cat "$data/slapd.pid"
    exit 0
  fi
  sleep 0.05
done
echo "slapd on port $port did not start" >&2
exit 1
