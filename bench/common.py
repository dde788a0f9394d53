"""Shared pieces of the benchmarks: services from the environment, fresh schemas, timing,
and the results (JSON plus a short Markdown table) in bench/results/."""

from __future__ import annotations

import json
import os
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg

from streams.avro.wire import registry_client
from streams.cli.schemas import register_all
from streams.kafka.topics import Topics
from streams.settings import Settings, load_settings

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Result:
    name: str
    unit: str
    value: float
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def settings_for_bench() -> Settings:
    """The services infra/bench.sh started (CPIS_* variables), PostgreSQL event store."""
    settings = load_settings()
    if "CPIS_POSTGRES_PORT" not in os.environ or not settings.kafka_bootstrap:
        raise SystemExit("start the services first: run ./infra/bench.sh (it does)")
    return replace(settings, event_store="postgres")


@contextmanager
def fresh_schemas(settings: Settings) -> Iterator[Settings]:
    """Event store and views in new schemas, dropped afterwards; a fresh topic prefix."""
    tag = uuid.uuid4().hex[:8]
    events, views = f"bench_es_{tag}", f"bench_views_{tag}"
    with psycopg.connect(settings.postgres.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{events}"')
        conn.execute(f'CREATE SCHEMA "{views}"')
        # each benchmark starts from a checkpointed database: the previous one's writes (a
        # 1M-event replay's) are not flushed in the middle of this one's measurement
        conn.execute("CHECKPOINT")
    fresh = replace(settings, postgres=replace(settings.postgres, schema=events),
                    views_schema=views, topic_prefix=f"bench{tag}.")
    register_schemas(fresh)
    try:
        yield fresh
    finally:
        with psycopg.connect(settings.postgres.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{events}" CASCADE')
            conn.execute(f'DROP SCHEMA "{views}" CASCADE')


def register_schemas(settings: Settings) -> None:
    """The topics' schemas under this prefix, as `cpis schemas register` does (the relay
    looks their ids up); nothing without a registry."""
    if settings.schema_registry_url:
        register_all(registry_client(settings.schema_registry_url), Topics(settings.topic_prefix))


PROBE_STEPS = 10_000_000


def speed_probe() -> float:
    """Seconds a fixed pure-Python loop takes: how fast this shared machine runs its Python
    just now, so a result far from its target can be told from a slow hour (the history of
    its values is in docs/benchmarks-history.md). It does not see everything: PostgreSQL can
    be slow in an hour when the probe is not."""
    started, total = time.perf_counter(), 0
    for step in range(PROBE_STEPS):
        total += step
    return time.perf_counter() - started


def write_results(results: list[Result], probes: dict[str, float] | None = None) -> str:
    RESULTS.mkdir(exist_ok=True)
    machine: dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                               "platform": platform.platform()}
    for when, seconds in (probes or {}).items():
        machine[f"speed_probe_seconds_{when}"] = round(seconds, 3)
    payload = {"machine": machine,
               "results": [asdict(r) | {"ratio": r.ratio} for r in results]}
    (RESULTS / "results.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    lines = ["| benchmark | result | baseline | ratio | target | met |",
             "|---|---|---|---|---|---|"]
    for r in results:
        base = f"{r.baseline:,.0f} {r.unit} ({r.baseline_name})" if r.baseline else "-"
        ratio = f"{r.ratio:.0%}" if r.ratio is not None else "-"
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        lines.append(f"| {r.name} | {r.value:,.1f} {r.unit} | {base} | {ratio} | {r.target} | "
                     f"{met} |")
    if probes:
        lines.append("")
        lines.append(f"Speed probe (a {PROBE_STEPS:,}-step Python loop): " + ", ".join(
            f"{seconds:.2f} s {when}" for when, seconds in probes.items()) + ".")
    text = "\n".join(lines) + "\n"
    (RESULTS / "results.md").write_text(text)
    return text
