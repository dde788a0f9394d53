#!/usr/bin/env bash
# A local PostgreSQL from Debian's package, for CP-IS tests and development.
#   infra/postgres.sh start    initdb (once) and start on 127.0.0.1 and a free port
#   infra/postgres.sh stop     stop it
#   infra/postgres.sh status   say whether it runs, and where
#   infra/postgres.sh restart [SECONDS]   stop (fast), stay down SECONDS (default 0), start
#                              again on the same port and data (for recovery tests)
# After start, `. .infra/postgres/env` exports CPIS_POSTGRES_HOST/PORT/DBNAME/USER.
# As root, the server runs as the postgres user (initdb refuses root).
set -euo pipefail
. "$(dirname "$0")/common.sh"

state="$CPIS_INFRA/postgres"
envfile="$state/env"

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bin" ]; then
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$bin"
}

as_owner() {  # run a server command as the postgres user when we are root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

data_home() {  # a folder of the project's own that the server user can use
  local home="$state/cluster"
  mkdir -p "$home"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$home"
    if ! runuser -u postgres -- test -w "$home"; then
      home="${TMPDIR:-/tmp}/cpis-postgres-$(printf '%s' "$CPIS_ROOT" | md5sum | cut -c1-8)"
      mkdir -p "$home" && chown postgres: "$home"
      log "the postgres user cannot reach $state; using $home"
    fi
  fi
  echo "$home"
}

is_running() {
  [ -f "$envfile" ] || return 1
  . "$envfile"
  "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$CPIS_POSTGRES_PORT"
}

launch() {  # launch BIN HOME PORT: start the server on its data folder and wait for it
  local bin=$1 home=$2 port=$3
  as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $home/run -c max_connections=200" >/dev/null \
    || { tail -n 20 "$home/server.log" >&2; die "PostgreSQL did not start"; }
  wait_for 30 "PostgreSQL on 127.0.0.1:$port" "$bin/pg_isready" -h 127.0.0.1 -p "$port" \
    || die "PostgreSQL is not answering on 127.0.0.1:$port"
}

restart() {
  is_running || die "PostgreSQL is not running; start it first"
  local bin; bin=$(pg_bin)
  as_owner "$bin/pg_ctl" -D "$CPIS_POSTGRES_DATA" -m fast -w stop >/dev/null
  log "PostgreSQL stopped; down for ${1:-0} s"
  sleep "${1:-0}"
  launch "$bin" "$(dirname "$CPIS_POSTGRES_DATA")" "$CPIS_POSTGRES_PORT"
}

start() {
  mkdir -p "$state"
  if is_running; then log "already running on 127.0.0.1:$CPIS_POSTGRES_PORT"; return 0; fi
  local bin home port
  bin=$(pg_bin); home=$(data_home); port=$(free_port)
  if [ ! -f "$home/data/PG_VERSION" ]; then
    log "initdb in $home/data"
    as_owner "$bin/initdb" -D "$home/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  mkdir -p "$home/run" && { [ "$(id -u)" != 0 ] || chown postgres: "$home/run"; }
  launch "$bin" "$home" "$port"
  if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='cpis'" | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres cpis
  fi
  cat >"$envfile" <<ENV
export CPIS_POSTGRES_HOST=127.0.0.1
export CPIS_POSTGRES_PORT=$port
export CPIS_POSTGRES_DBNAME=cpis
export CPIS_POSTGRES_USER=postgres
export CPIS_POSTGRES_DATA=$home/data
ENV
  log "PostgreSQL running on 127.0.0.1:$port (data $home/data); . $envfile"
}

stop() {
  [ -f "$envfile" ] || { log "not started"; return 0; }
  . "$envfile"
  as_owner "$(pg_bin)/pg_ctl" -D "$CPIS_POSTGRES_DATA" -m fast -w stop >/dev/null 2>&1 || true
  rm -f "$envfile"
  log "PostgreSQL stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart "${2:-0}" ;;
  status) if is_running; then echo "running on 127.0.0.1:$CPIS_POSTGRES_PORT"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|restart [SECONDS]" >&2; exit 2 ;;
esac
