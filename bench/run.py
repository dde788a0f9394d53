"""Run the benchmarks, each with its same-run baseline; write bench/results/results.json and
results.md and print the table.  python -m bench.run [--records N] [--relay-events N]
[--replay-events N]  (defaults are the sizes the targets are stated for)."""

from __future__ import annotations

import argparse
import logging

from bench import ingest, relay, replay
from bench.common import Result, settings_for_bench, write_results


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.run")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--relay-events", type=int, default=40_000)
    parser.add_argument("--replay-events", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = settings_for_bench()
    results: list[Result] = []
    print("running ingest ...", flush=True)
    results.append(ingest.run(settings, args.records))
    print("running relay ...", flush=True)
    results.append(relay.run(settings, args.relay_events))
    print("running replay ...", flush=True)
    results.append(replay.run(settings, args.replay_events))
    print(write_results(results))


if __name__ == "__main__":
    main()
