#!/usr/bin/env bash
# Same-run A/B: the benchmarks at a base commit and at the working tree, taken in turn
# (base, head, head, base, ...) on the same services, so a drift in this machine's speed
# falls on both sides. Every round's JSON goes to bench/results/ab/; the summary (medians,
# head/base) to bench/results/ab/summary.md. The head is the working tree, or the commit
# in CPIS_AB_HEAD (to compare two past commits, e.g. either side of a change long merged).
#   infra/bench-ab.sh BASE ROUNDS [bench.run arguments]
#   infra/bench-ab.sh caa63fa 2 --only ingest relay --records 5000
#   CPIS_AB_HEAD=2a4d605 infra/bench-ab.sh caa63fa 4 --only relay
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$CPIS_ROOT"
base=${1:?usage: infra/bench-ab.sh BASE ROUNDS [bench.run arguments]}
rounds=${2:?usage: infra/bench-ab.sh BASE ROUNDS [bench.run arguments]}
shift 2
infra/install.sh
start_services postgres kafka registry
tree="$CPIS_INFRA/ab-base"
rm -rf "$tree" && git worktree prune
git worktree add --detach "$tree" "$base" >/dev/null
head_tree="$CPIS_ROOT"
if [ -n "${CPIS_AB_HEAD:-}" ]; then
  head_tree="$CPIS_INFRA/ab-head"
  rm -rf "$head_tree" && git worktree prune
  git worktree add --detach "$head_tree" "$CPIS_AB_HEAD" >/dev/null
fi
out="$CPIS_ROOT/bench/results/ab"
mkdir -p "$out" && rm -f "$out"/*.json

run() {  # run SIDE DIR ROUND
  log "round $3: $1"
  (cd "$2" && PYTHONPATH="$2" "$CPIS_ROOT/.venv/bin/python" -m bench.run "${@:4}")
  cp "$2/bench/results/results.json" "$out/$1-$3.json"
}
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then order="base head"; else order="head base"; fi
  for side in $order; do
    if [ "$side" = base ]; then dir="$tree"; else dir="$head_tree"; fi
    run "$side" "$dir" "$round" "$@"
  done
done
git worktree remove --force "$tree"
[ "$head_tree" = "$CPIS_ROOT" ] || git worktree remove --force "$head_tree"
"$CPIS_ROOT/.venv/bin/python" -m bench.ab "$out" "$base"
