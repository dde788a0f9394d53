"""Query cost against a record's history: one child's query with 1, 100, 1,000, 10,000 and
100,000 accesses already stored (PostgreSQL event store).

A history is written as the service would have written it (the record's own events, stored
in one batch per 5,000), with the record's snapshot at the last multiple of its interval that
leaves the most events after it (interval - 1), the worst a cold read meets. Then:
- cold: a new application (nothing cached) answers one query: reads the snapshot and the
  events since, records the access, commits; median of COLD_RUNS;
- warm: the same application answers WARM_RUNS more (the record cached).
Baseline, same run: one event-store read of a record (select its first event), median.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from typing import Any

from bench.common import Result, fresh_schemas
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.application.store import RECORD_SNAPSHOT_EVERY
from domain.model.access import Access
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord, record_id
from streams.bootstrap import build_application
from streams.settings import Settings
from tests.builders import T0, UPLOAD, person, plan, synthetic_nhs_numbers

SIZES = (1, 100, 1_000, 10_000, 100_000)
COLD_RUNS, WARM_RUNS, READS = 5, 50, 200
SPACING = timedelta(hours=3)  # between stored accesses: a child seen often, for years
CHUNK = 5_000
TARGET_COLD_RATIO, TARGET_WARM_RATIO = 2.0, 1.25
HL7 = Provenance(Channel.HL7V3, "BENCH")


class BenchClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def store_history(app: CpisApplication, nhs_number: NhsNumber, accesses: int) -> datetime:
    """The record with a plan and `accesses` accesses; the time of the last."""
    record: Any = ChildProtectionRecord(nhs_number=nhs_number)
    record.register_plan(plan(), UPLOAD, T0)
    last = T0
    for i in range(accesses):
        last = T0 + i * SPACING
        record.record_access(Access(f"{nhs_number}-{i}", last, person(str(i % 40))), HL7)
        if len(record.pending_events) >= CHUNK:
            _insert(app, record)
    _insert(app, record)
    snapshot_at = (record.version - (RECORD_SNAPSHOT_EVERY - 1)) // RECORD_SNAPSHOT_EVERY \
        * RECORD_SNAPSHOT_EVERY
    if snapshot_at > 0:
        app.take_snapshot(record_id(nhs_number), version=snapshot_at)
    return last


def _insert(app: CpisApplication, record: Any) -> None:
    app.recorder.insert_events([app.mapper.to_stored_event(e) for e in record.collect_events()])


def _ask(app: CpisApplication, nhs_number: NhsNumber, n: int) -> float:
    started = time.perf_counter()
    app.query(QueryRequest(nhs_number, person("asker"), app.clock(), f"ASK-{nhs_number}-{n}",
                           HL7))
    return (time.perf_counter() - started) * 1000


def measure(bench: Settings, nhs_number: NhsNumber, last: datetime) -> dict[str, Any]:
    clock = BenchClock(last + timedelta(hours=1))
    cold: list[float] = []
    warm: list[float] = []
    for run in range(COLD_RUNS):
        app = build_application(bench, clock=clock)
        try:
            cold.append(_ask(app, nhs_number, run))
            if run == COLD_RUNS - 1:
                warm = [_ask(app, nhs_number, COLD_RUNS + n) for n in range(WARM_RUNS)]
        finally:
            app.close()
    return {"cold_ms": statistics.median(cold), "warm_ms": statistics.median(warm)}


def event_store_read_ms(bench: Settings, nhs_number: NhsNumber) -> float:
    app = build_application(bench)
    try:
        times = []
        for _ in range(READS):
            started = time.perf_counter()
            app.recorder.select_events(record_id(nhs_number), lte=1)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        app.close()


def run(settings: Settings, sizes: tuple[int, ...] = SIZES) -> Result:
    rows: list[dict[str, Any]] = []
    with fresh_schemas(settings) as bench:
        numbers = synthetic_nhs_numbers(len(sizes), start=500_000)
        for size, number in zip(sizes, numbers, strict=True):
            print(f"  scaling: storing {size:,} accesses ...", flush=True)
            app = build_application(bench)
            try:
                last = store_history(app, number, size)
            finally:
                app.close()
            rows.append({"accesses": size, **measure(bench, number, last)})
        read_ms = event_store_read_ms(bench, numbers[0])
    for row in rows:
        row["cold_reads"] = round(row["cold_ms"] / read_ms, 1)
        row["warm_reads"] = round(row["warm_ms"] / read_ms, 1)
    first, largest = rows[0], rows[-1]
    cold_ratio = largest["cold_ms"] / first["cold_ms"]
    warm_ratio = largest["warm_ms"] / first["warm_ms"]
    return Result(f"cold query at {largest['accesses']:,} stored accesses", "ms",
                  largest["cold_ms"], first["cold_ms"], f"cold query at {first['accesses']:,}",
                  f"cold <= {TARGET_COLD_RATIO:.0f}x of 1 access, warm <= "
                  f"{TARGET_WARM_RATIO:.2f}x", cold_ratio <= TARGET_COLD_RATIO
                  and warm_ratio <= TARGET_WARM_RATIO,
                  {"sizes": rows, "event_store_read_ms": read_ms, "warm_ratio": warm_ratio,
                   "snapshot_every": RECORD_SNAPSHOT_EVERY})


def table(result: Result) -> str:
    """The curve as Markdown, for docs/benchmarks.md."""
    lines = ["| accesses stored | cold query | warm query | cold / one read |",
             "|---|---|---|---|"]
    lines += [f"| {r['accesses']:,} | {r['cold_ms']:.1f} ms | {r['warm_ms']:.1f} ms | "
              f"{r['cold_reads']}x |" for r in result.details["sizes"]]
    return "\n".join(lines)
