#!/usr/bin/env bash
# NHS's mesh-sandbox MESH server (from PyPI) with CP-IS's own mailboxes, on 127.0.0.1.
#   infra/mesh.sh start    install mesh-sandbox into .infra/mesh/venv (once), start it on a
#                          free port with an in-memory store and a shared key
#   infra/mesh.sh stop     stop it
#   infra/mesh.sh status   say whether it runs
# After start, `. .infra/mesh/env` exports CPIS_MESH_URL and CPIS_MESH_SHARED_KEY.
# Mailboxes (password "password"): CPIS0001 (CP-IS), X26LA001, X27LA001, X28LA001 (LAs).
set -euo pipefail
. "$(dirname "$0")/common.sh"

state="$CPIS_INFRA/mesh"
envfile="$state/env"
venv="$state/venv"

install() {
  if [ -f "$venv/.installed" ]; then return 0; fi
  log "installing mesh-sandbox from PyPI into $venv (once)"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "mesh-sandbox==1.0.137"
  touch "$venv/.installed"
}

healthy() { python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1] + '/health', timeout=2)" "$1"; }

is_running() {
  [ -f "$envfile" ] && [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null
}

start() {
  mkdir -p "$state"
  if is_running; then . "$envfile"; log "already running at $CPIS_MESH_URL"; return 0; fi
  install
  local port key="CPISTestSharedKey"
  port=$(free_port)
  STORE_MODE=memory SHARED_KEY="$key" nohup "$venv/bin/python" \
    "$CPIS_ROOT/infra/mesh/launch_sandbox.py" 127.0.0.1 "$port" >"$state/server.log" 2>&1 &
  echo $! >"$state/pid"
  if ! wait_for 60 "mesh-sandbox on 127.0.0.1:$port" healthy "http://127.0.0.1:$port"; then
    tail -n 30 "$state/server.log" >&2; die "mesh-sandbox did not start"
  fi
  printf 'export CPIS_MESH_URL=http://127.0.0.1:%s\nexport CPIS_MESH_SHARED_KEY=%s\n' \
    "$port" "$key" >"$envfile"
  log "mesh-sandbox running at http://127.0.0.1:$port; . $envfile"
}

stop() {
  stop_pidfile "$state/pid"
  rm -f "$envfile"
  log "mesh-sandbox stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if is_running; then . "$envfile"; echo "running at $CPIS_MESH_URL"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
