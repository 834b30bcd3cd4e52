#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster on 127.0.0.1, exported to it as
# POSTCART_TEST_PG_URL. The cluster is deleted afterwards. Used by `make test` so that the
# storage tests run against a real server. If no PostgreSQL binaries exist, the command runs
# without the variable (the PostgreSQL tests then skip locally, and fail under CI=true).
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "with-postgres: no PostgreSQL binaries found; running without a server" >&2
  exec "$@"
fi
dir=$(mktemp -d /tmp/postcart-pg.XXXXXX)
# A free port, so that several runs (or developers) on one machine never collide.
port=${POSTCART_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
run() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) -eq 0 ]] && chown postgres "$dir"
cleanup() { run "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
run "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
export POSTCART_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: throwaway cluster at $POSTCART_TEST_PG_URL" >&2
set +e
"$@"
status=$?
exit $status
