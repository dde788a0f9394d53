#!/usr/bin/env bash
# Debian's chromium, for the console's browser tests (Playwright drives it; it never
# downloads a browser of its own).
#   infra/chromium.sh start    install it from Debian's packages once; write .infra/chromium/env
#   infra/chromium.sh stop | status
# After start, `. .infra/chromium/env` exports CPIS_CHROMIUM (the browser binary).
set -euo pipefail
. "$(dirname "$0")/common.sh"

state="$CPIS_INFRA/chromium"
envfile="$state/env"

start() {
  command -v chromium >/dev/null || apt_install chromium
  mkdir -p "$state"
  echo "export CPIS_CHROMIUM=$(command -v chromium)" >"$envfile"
  log "$(chromium --version 2>/dev/null | head -1); . $envfile"
}

case "${1:-}" in
  start) start ;;
  stop) rm -f "$envfile" ;;  # nothing runs between tests: each test starts its own browser
  status) if [ -f "$envfile" ] && command -v chromium >/dev/null; then echo "installed"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
