"""Run the benchmarks, each with its same-run baseline; write bench/results/results.json and
results.md and print the table.  python -m bench.run [--records N] [--relay-events N]
[--replay-events N] [--query-seconds S] [--outbox-sent N] [--scaling-sizes N...] [--only NAME...]
(defaults are the sizes the targets are stated for)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from bench import ingest, outbox, query, relay, replay, resume, scaling
from bench.common import Result, settings_for_bench, speed_probe, write_results


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.run")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--relay-events", type=int, default=400_000)
    parser.add_argument("--replay-events", type=int, default=1_000_000)
    parser.add_argument("--query-seconds", type=float, default=10.0,
                        help="seconds at each offered query rate")
    parser.add_argument("--outbox-sent", type=int, default=1_000_000,
                        help="notifications already sent when the outbox read is timed")
    parser.add_argument("--scaling-sizes", type=int, nargs="+", default=list(scaling.SIZES),
                        help="stored accesses a child has in the scaling benchmark")
    parser.add_argument("--only", choices=["ingest", "relay", "replay", "query", "outbox",
                                           "scaling", "resume", "resume-kafka"],
                        nargs="+",
                        help="run only these benchmarks (resume and resume-kafka, which "
                        "restart PostgreSQL and Kafka, run only when named)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = settings_for_bench()
    results: list[Result] = []
    runs: dict[str, Callable[[], Result]] = {"ingest": lambda: ingest.run(settings, args.records),
            "relay": lambda: relay.run(settings, args.relay_events),
            "replay": lambda: replay.run(settings, args.replay_events),
            "query": lambda: query.run(settings, args.query_seconds),
            "outbox": lambda: outbox.run(settings, args.outbox_sent),
            "scaling": lambda: scaling.run(settings, tuple(args.scaling_sizes)),
            "resume": lambda: resume.run(settings),
            "resume-kafka": lambda: resume.run(settings, "kafka")}
    probes = {"before": speed_probe()}
    for name, bench in runs.items():
        named = args.only is not None and name in args.only
        if named or (args.only is None and not name.startswith("resume")):
            print(f"running {name} ...", flush=True)
            results.append(bench())
    probes["after"] = speed_probe()
    print(write_results(results, probes))


if __name__ == "__main__":
    main()
