#!/usr/bin/env bash
# Password logins over verified TLS, run with docs/SERVER.md's own commands (the blocks marked
# "ci:" there, read by scripts/server_md.py), on a server this step starts on localhost with a
# test certificate authority made by openssl: IT sets up the store with server init; a person
# signs in with her own SCRAM password over sslmode=verify-full; the environment, another
# PGUSER, a wrong password, no TLS and a certificate for another host name change nothing or
# are refused.
set -euo pipefail
md() { python scripts/server_md.py "$1"; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
fail() { echo "server-tls: $*" >&2; exit 1; }
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/initdb" ] || fail "PostgreSQL is not installed (scripts/bootstrap.sh --test installs it)"
work=$(mktemp -d /tmp/sefton-tls.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work"; fi
cleanup() { as_pg "$BIN/pg_ctl" -D "$work/data" -m immediate -w -s stop >/dev/null 2>&1 || true
            rm -rf "$work"; }
trap cleanup EXIT
port=55433

# A test certificate authority, and the server's certificate for "localhost" signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Sefton QA test CA" \
    -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' > "$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAcreateserial -days 2 -extfile "$work/san.ext" -out "$work/server.crt" 2>/dev/null

as_pg "$BIN/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    > /dev/null
cp "$work/server.crt" "$work/server.key" "$work/data/"
chmod 600 "$work/data/server.key"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work/data/server.crt" "$work/data/server.key"; fi
# The guide's server settings, then this machine's: a port, localhost, a socket for set-up.
md tls-server | sed -n '/^# postgresql.conf/,/^# pg_hba.conf/p' | grep -v '^#' \
    >> "$work/data/postgresql.conf"
printf "port = %s\nlisten_addresses = 'localhost'\nunix_socket_directories = '%s'\nfsync = off\n" \
    "$port" "$work" >> "$work/data/postgresql.conf"
{ echo "local all postgres trust"   # the set-up below, as the superuser, on the socket only
  md tls-server | sed -n '/^# pg_hba.conf/,$p' | grep -v '^#'; } > "$work/data/pg_hba.conf"
as_pg "$BIN/pg_ctl" -D "$work/data" -l "$work/data/log" -w -s start

su_sql() { python -c "import psycopg, sys; c = psycopg.connect(sys.argv[1], autocommit=True)
for s in sys.stdin.read().split(';'):
    s = '\n'.join(l.split('--')[0] for l in s.splitlines()).strip()
    if s: c.execute(s)" "host=$work port=$port user=postgres dbname=${1:-postgres}"; }
md it-and-database | su_sql
md logins | su_sql
# This server has no Kerberos: the guide's Kerberos login gets a password here.
echo "ALTER ROLE \"jo.bloggs\" PASSWORD 'jo-secret'" | su_sql

# Passwords come from a password file, never from the address.
printf '%s\n' "localhost:$port:sefton_qa:qa_it:choose-one" \
    "localhost:$port:sefton_qa:jo.bloggs:jo-secret" \
    "localhost:$port:sefton_qa:sam.manager:set-by-the-person" > "$work/pgpass"
chmod 600 "$work/pgpass"
export PGPASSFILE="$work/pgpass"
tls="sslmode=verify-full&sslrootcert=$work/ca.crt"
url() { echo "postgresql://$1@localhost:$port/sefton_qa?$tls"; }

# The guide's server init, pointed at this server.
it_url=$(url qa_it)
init=$(md server-init | sed "s#postgresql://qa_it@qa-db.council.local/sefton_qa#${it_url//&/\\&}#")
eval "$init"
sefton-qa --db "$(url jo.bloggs)" whoami | tee "$work/out"
grep -q "^Jo Bloggs (account jo.bloggs)" "$work/out" || fail "Jo did not sign in as herself"

# Who is acting is the authenticated login: the environment naming IT changes nothing.
USER=qa_it LOGNAME=qa_it USERNAME=qa_it sefton-qa --db "$(url jo.bloggs)" whoami \
    | grep -q "^Jo Bloggs" || fail "the environment changed who signed in"
# Another PGUSER without that login's password in the password file: the server refuses.
if PGUSER=qa.nobody sefton-qa --db "postgresql://localhost:$port/sefton_qa?$tls" whoami \
        2> "$work/err"; then fail "a login without its password was let in"; fi
grep -q "refused your login" "$work/err" || fail "the refusal did not say why: $(cat "$work/err")"
# A wrong password.
printf '%s\n' "localhost:$port:sefton_qa:jo.bloggs:wrong" > "$work/wrong"
chmod 600 "$work/wrong"
if PGPASSFILE="$work/wrong" sefton-qa --db "$(url jo.bloggs)" whoami 2> "$work/err"; then
    fail "a wrong password was accepted"; fi
grep -q "refused your login" "$work/err" || fail "$(cat "$work/err")"
# Without TLS no line of pg_hba.conf lets anyone in.
if sefton-qa --db "postgresql://jo.bloggs@localhost:$port/sefton_qa?sslmode=disable" whoami \
        2> "$work/err"; then fail "a connection without TLS was let in"; fi
grep -qi "no pg_hba.conf entry" "$work/err" || fail "$(cat "$work/err")"
# verify-full: a certificate that does not name the host the app was given is refused.
if sefton-qa --db "postgresql://jo.bloggs@127.0.0.1:$port/sefton_qa?$tls" whoami \
        2> "$work/err"; then fail "a certificate for another host name was accepted"; fi
grep -qiE "does not match host name|server certificate" "$work/err" || fail "$(cat "$work/err")"

# The guide's client command: Sam connects over TLS but is not on the staff list yet; Jo adds
# him (which lets his login in), and then he is himself.
client=$(md tls-client | sed "s#qa-db.council.local#localhost:$port#; s#/etc/ssl/council-ca.crt#$work/ca.crt#")
if eval "$client whoami" 2> "$work/err"; then fail "Sam was let in before he was added"; fi
grep -q "not let into" "$work/err" || fail "$(cat "$work/err")"
sefton-qa --db "$(url jo.bloggs)" staff add sam.manager --name "Sam Manager" \
    --role service_manager | tee "$work/out"
grep -q "was given access" "$work/out" || fail "Sam's login was not let in"
eval "$client whoami" | grep -q "^Sam Manager" || fail "Sam could not sign in"
sefton-qa --db "$(url qa_it)" server migrate
sefton-qa --db "$(url jo.bloggs)" verify > /dev/null
echo "server-tls: SCRAM over verify-full TLS with the guide's commands; environment, other" \
     "PGUSER, wrong password, no TLS and a wrong host name refused or ignored"
