#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the server's tests and
# benchmarks, installing Debian's package first if needed; prints its admin
# URL. Idempotent: a running server is reused, a stopped one restarted.
#
#   SAFELANE_PG_PORT  port on 127.0.0.1 (default 54329)
#   SAFELANE_PG_DIR   data directory (default /tmp/safelane-pg)
#
# Trust authentication on 127.0.0.1 only: this server holds test data.
# synchronous_commit=off matches the SQLite store's WAL + synchronous=NORMAL
# (a crash may lose the last commits, never corrupts); fsync stays on.
set -euo pipefail
port=${SAFELANE_PG_PORT:-54329}
dir=${SAFELANE_PG_DIR:-/tmp/safelane-pg}

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
bin=$(find_bin)
if [ -z "$bin" ]; then
  "$(dirname "$0")/tools.sh" postgresql
  bin=$(find_bin)
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ ! -f "$dir/PG_VERSION" ]; then
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-sync >/dev/null
fi
if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c synchronous_commit=off -c max_connections=200 -c shared_buffers=256MB" \
    start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:${port}/postgres"
