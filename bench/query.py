"""HL7 V3 CP-IS NHS queries over HTTP, each access recorded durably in PostgreSQL.

`cpis serve` (one uvicorn process) answers for 1,000 synthetic children uploaded first;
bench.load, in its own process on the same two cores, offers queries open-loop at fixed
rates, each a new unscheduled access (so each is an InformationAccessed event committed
before the reply). Baseline, same run: the durable write alone - eventsourcing inserts of
one access event each, one after another - with its p50/p99.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.common import Result, fresh_schemas
from bench.ingest import synthetic_file
from bench.load import percentile
from domain.model.access import Access
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord
from streams.bootstrap import build_application
from streams.settings import Settings
from tests.builders import person
from tests.e2e.test_hl7_query_over_http import wait_until_serving
from tests.hl7 import FIXTURES, soap
from tests.services import cli_env

RECORD: Any = ChildProtectionRecord
CHILDREN = 1_000
RATES = (50.0, 100.0, 200.0, 300.0)
WORKERS = (1, 2)  # uvicorn worker processes
TARGET_RATE, TARGET_P99_MS = 200.0, 10.0
QUERY = FIXTURES / "query_person.xml"
FIXTURE_EVENT_ID = "0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5"
FIXTURE_TIME = "20261101115959+0000"


def query_templates(numbers: list[str]) -> list[str]:
    """One SOAP query per child; EVENT_ID and EFFECTIVE_TIME are filled in per request by
    bench.load (CP-IS refuses access times far from its clock)."""
    message = soap(QUERY.read_bytes()).decode().replace(FIXTURE_EVENT_ID, "EVENT_ID").replace(
        FIXTURE_TIME, "EFFECTIVE_TIME")
    return [message.replace("9998765439", nhs) for nhs in numbers]


def upload_children(settings: Settings) -> list[str]:
    upload = parse_la_file(synthetic_file(CHILDREN))
    app = build_application(settings)
    try:
        app.process_upload(upload, "BENCH-QUERY", SyntheticPds.load())
    finally:
        app.close()
    return [record.subject.nhs_number for record in upload.records]


def serve(settings: Settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = cli_env(settings) | {"CPIS_KAFKA_BOOTSTRAP": ""}
    server = subprocess.Popen([sys.executable, "-m", "streams.cli.main", "serve", "--port",
                               str(port), "--workers", str(workers), "--insecure-http"],
                              env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}")
    except AssertionError:
        server.kill()
        raise
    return server


def offer(url: str, bodies: Path, rate: float, seconds: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.load", url, str(bodies), str(rate),
                          str(seconds)], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    print(f"  offered {rate:.0f}/s: achieved {result['achieved_per_s']:.0f}/s, "
          f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
          f"statuses {result['statuses']}, load generator CPU "
          f"{result['load_generator_cpu_s'] / result['wall_s']:.0%} of a core", flush=True)
    return result


def durable_write_baseline(settings: Settings, numbers: list[str], count: int = 2000
                           ) -> dict[str, float]:
    """One stored access event per insert, each its own transaction (the floor of a query)."""
    app = build_application(settings)
    try:
        latencies = []
        for i in range(count):
            nhs = NhsNumber(numbers[i % len(numbers)])
            event = RECORD.InformationAccessed(
                originator_id=RECORD.create_id(nhs), originator_version=1_000 + i,
                timestamp=datetime.now(UTC), nhs_number=nhs,
                access=Access(f"base-{i}", datetime.now(UTC), person()), notify=["X26"],
                provenance=Provenance(Channel.HL7V3, f"base-{i}"))
            stored: StoredEvent = app.mapper.to_stored_event(event)
            started = time.perf_counter()
            app.recorder.insert_events([stored])
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        app.close()
    ordered = sorted(latencies)
    return {"per_s": count / (sum(latencies) / 1000), "p50_ms": percentile(ordered, 50),
            "p99_ms": percentile(ordered, 99)}


def offered_rates(settings: Settings, templates: Path, workers: int, seconds: float,
                  port: int) -> list[dict[str, Any]]:
    print(f" cpis serve --workers {workers}", flush=True)
    server = serve(settings, port, workers)
    url = f"http://127.0.0.1:{port}/cpisquery"
    try:
        offer(url, templates, 50.0, 3.0)  # warm-up
        return [offer(url, templates, rate, seconds) | {"workers": workers} for rate in RATES]
    finally:
        server.terminate()
        server.wait(30)


def run(settings: Settings, seconds: float = 10.0, port: int = 18_480) -> Result:
    with fresh_schemas(settings) as bench:
        numbers = upload_children(bench)
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("\n".join(json.dumps(t) for t in query_templates(numbers)))
        try:
            runs = {workers: offered_rates(bench, Path(f.name), workers, seconds, port)
                    for workers in WORKERS}
        finally:
            Path(f.name).unlink()
        baseline = durable_write_baseline(bench, numbers)
    best = min(WORKERS, key=lambda w: at_rate(runs[w], TARGET_RATE)["p99_ms"])
    at_target = at_rate(runs[best], TARGET_RATE)
    ok = at_target["p99_ms"] < TARGET_P99_MS and set(at_target["statuses"]) == {"200"}
    return Result(f"HL7 V3 query over HTTP at {TARGET_RATE:.0f}/s offered, access recorded "
                  f"({best} worker(s))", "ms p99", at_target["p99_ms"], baseline["p99_ms"],
                  "eventsourcing insert of one access event, p99",
                  f"p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE:.0f}/s", ok,
                  {"runs": [r for w in WORKERS for r in runs[w]], "baseline": baseline,
                   "children": CHILDREN})


def at_rate(runs: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    return next(r for r in runs if r["offered_per_s"] == rate)
