#!/usr/bin/env bash
# Install, start PostgreSQL, Kafka and the schema registry, run the benchmarks (arguments go to bench.run).
#   infra/bench.sh --replay-events 100000
# Services this script started are stopped again at the end (a broker left running costs
# the next run CPU, and one that has served many runs is slower: start it fresh).
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$CPIS_ROOT"
infra/install.sh
start_services postgres kafka registry
.venv/bin/python -m bench.run "$@"
