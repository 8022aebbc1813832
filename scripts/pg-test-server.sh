#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: unix socket only, fsync off (tests only).
#
#   scripts/pg-test-server.sh start DIR   installs Debian's postgresql if missing, initdb in DIR,
#                                         starts it; prints the libpq URL of its "postgres" db
#   scripts/pg-test-server.sh stop DIR    stops it (immediate) and removes DIR
#
# As root, the server runs as the "postgres" user (which Debian's package creates); as any
# other user it runs as that user. Nothing outside DIR is touched apart from the package.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop DIR" >&2
    exit 2
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

case "$cmd" in
start)
    if [ -z "$(find_bin)" ] || [ ! -x "$(find_bin)/initdb" ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "pg-test-server: PostgreSQL is not installed; as root run:" >&2
            echo "  apt-get install postgresql postgresql-contrib" >&2
            exit 3
        fi
        export DEBIAN_FRONTEND=noninteractive
        mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/no-main.conf
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >&2
    fi
    BIN="$(find_bin)"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -s -o "-k $dir \
        -c listen_addresses='' -c port=5432 -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200" start >&2 \
        || { cat "$dir/log" >&2; exit 1; }
    echo "postgresql://postgres@/postgres?host=$dir&port=5432"
    ;;
stop)
    BIN="$(find_bin)"
    if [ -n "$BIN" ] && [ -d "$dir/data" ]; then
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w -s stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
