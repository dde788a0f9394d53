#!/usr/bin/env bash
# The whole test suite: install, start the real services (and Keycloak and Debian's
# chromium for the console's browser tests), lint, type-check, check layers,
# then run every test (unit, integration against real services, end-to-end).
#   infra/test.sh [pytest args...]
# Services this script started are stopped again at the end.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$CPIS_ROOT"

infra/install.sh

start_services postgres kafka mesh registry prometheus keycloak chromium
infra/connect.sh fetch && . "$CPIS_INFRA/connect/env"  # jars only: the test starts its worker

log "ruff";          .venv/bin/ruff check .
log "mypy --strict"; .venv/bin/mypy
log "import-linter"; .venv/bin/lint-imports

log "pytest"
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  log "pytest collected no tests for: ${*:-the whole suite}"
  [ "$#" -gt 0 ] && exit 0 || exit 1
fi
exit "$rc"
