#!/usr/bin/env bash
# Create .venv and install CP-IS with its development tools (idempotent).
#   infra/install.sh          runtime + dev tools (tests, linters)
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$CPIS_ROOT"
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .venv; }
fi
stamp=.venv/.cpis-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing CP-IS and its tools into .venv (pip)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
  touch "$stamp"
fi
log "ready: .venv/bin/cpis"
