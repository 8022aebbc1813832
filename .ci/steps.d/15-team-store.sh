#!/usr/bin/env bash
# The team store's "done when", through the installed command on a server the project starts
# itself: demo, summary, import, export, queue, report, verify and info on a PostgreSQL store;
# the same demo seed gives the same summary on a file and on the server; copy-store both ways
# keeps the trail's head hash.
set -euo pipefail
work=$(mktemp -d)
server=$(mktemp -d /tmp/sefton-pg.XXXXXX)  # its own folder: the server runs as "postgres"
cleanup() { bash scripts/pg-test-server.sh stop "$server" || true; rm -rf "$work"; }
trap cleanup EXIT
admin=$(bash scripts/pg-test-server.sh start "$server")
db() { python -c "import sys; from psycopg.conninfo import make_conninfo; print(make_conninfo(sys.argv[1], dbname=sys.argv[2]))" "$admin" "$1"; }
for name in team copied; do
    python -c "import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute('CREATE DATABASE $name')" "$admin"
done
team=$(db team)
copied=$(db copied)
file="$work/file.sqlite3"

sefton-qa --db "$team" demo --seed 11 --months 9
sefton-qa --db "$file" demo --seed 11 --months 9
sefton-qa --db "$team" summary --from 2026-05-01 --to 2026-07-31 --json > "$work/server.json"
sefton-qa --db "$file" summary --from 2026-05-01 --to 2026-07-31 --json > "$work/file.json"
cmp "$work/server.json" "$work/file.json"
echo "summary --json: the same figures on the server and in the file (seed 11)"

sefton-qa --db "$team" info
sefton-qa --db "$team" verify
sefton-qa --db "$team" queue > /dev/null
sefton-qa --db "$team" export "$work/export.csv"
sefton-qa --db "$team" report --from 2026-05-01 --to 2026-07-31 -o "$work/pack.pdf"
test -s "$work/pack.pdf"
# an exported file imported again: every row is already there
sefton-qa --db "$team" import "$work/export.csv" | tail -3

head_of() { sefton-qa --db "$1" info | sed -n 's/^Trail head: *//p'; }
sefton-qa copy-store "$file" "$copied"
sefton-qa copy-store "$copied" "$work/back.sqlite3"
h1=$(head_of "$file"); h2=$(head_of "$copied"); h3=$(head_of "$work/back.sqlite3")
echo "trail heads: $h1 | $h2 | $h3"
[ "$h1" = "$h2" ] && [ "$h2" = "$h3" ]
sefton-qa --db "$copied" verify > /dev/null
sefton-qa --db "$work/back.sqlite3" verify > /dev/null
if sefton-qa copy-store "$file" "$copied" 2> "$work/refused.txt"; then
    echo "copy-store into a store holding work must be refused" >&2; exit 1
fi
grep -q "already holds work" "$work/refused.txt"
echo "copy-store: file -> server -> file with equal head hashes; a full destination refused"
