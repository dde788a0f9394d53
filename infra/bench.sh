#!/usr/bin/env bash
# Install, start PostgreSQL and Kafka, run the benchmarks (arguments go to bench.run).
#   infra/bench.sh --replay-events 100000
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$CPIS_ROOT"
infra/install.sh
for svc in postgres kafka; do "infra/$svc.sh" start; . ".infra/$svc/env"; done
.venv/bin/python -m bench.run "$@"
