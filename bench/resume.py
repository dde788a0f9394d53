"""Resume: how soon the relay publishes again once PostgreSQL is back from a restart
(`infra/postgres.sh restart`, so only where infra/ started PostgreSQL). The clock starts
when the restart script returns, PostgreSQL accepting connections again; the relay's time
ends when a plan stored after the restart is on Kafka. Baseline, same run: a plain psycopg
connect and `SELECT 1` from that same moment (how soon anything can reach PostgreSQL). Three
restarts; medians. Not in the default run: it restarts the database under everything."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from statistics import median

import psycopg
from eventsourcing.persistence import PersistenceError

from bench.common import Result, fresh_schemas
from domain.application.app import CpisApplication
from streams.bootstrap import build_application, build_relay, topics_of
from streams.kafka.admin import ensure_topics
from streams.settings import Settings
from tests.builders import UPLOAD, plan, synthetic_nhs_numbers

RESTARTS, DOWN_SECONDS = 3, 2
SCRIPT = Path(__file__).resolve().parents[1] / "infra" / "postgres.sh"


def run(settings: Settings) -> Result:
    with fresh_schemas(settings) as bench:
        ensure_topics(bench.require_kafka(), topics_of(bench))
        app = build_application(bench)
        relay = build_relay(bench, app)
        stop = threading.Event()
        running = threading.Thread(target=relay.run, kwargs={"stop": stop.is_set}, daemon=True)
        running.start()
        try:
            numbers = synthetic_nhs_numbers(RESTARTS + 1, start=3_000)
            published_by(app, relay, numbers[0], deadline=60)
            times = [one_restart(bench, app, relay, number) for number in numbers[1:]]
        finally:
            stop.set()
            running.join(30)
            app.close()
    relay_s, plain_s = median(t[0] for t in times), median(t[1] for t in times)
    return Result("relay back after a PostgreSQL restart", "s", relay_s, plain_s,
                  "plain psycopg connect + SELECT 1 after the same restart", "~2 s",
                  relay_s <= 2.5, {"restarts": RESTARTS, "down_seconds": DOWN_SECONDS,
                                   "relay_s": [round(t[0], 3) for t in times],
                                   "plain_s": [round(t[1], 3) for t in times]})


def one_restart(settings: Settings, app: CpisApplication, relay: object, number: object
                ) -> tuple[float, float]:
    subprocess.run([str(SCRIPT), "restart", str(DOWN_SECONDS)], check=True,
                   capture_output=True)
    back = time.monotonic()
    with psycopg.connect(settings.postgres.conninfo()) as conn:
        conn.execute("SELECT 1")
    plain = time.monotonic() - back
    published_by(app, relay, number, deadline=120)
    return time.monotonic() - back, plain


def published_by(app: CpisApplication, relay: object, number: object, deadline: float) -> None:
    """Store a plan for `number` (again while the store refuses), then wait for the relay."""
    until = time.monotonic() + deadline
    while True:
        try:
            app.upload_plan(number, plan(), UPLOAD)  # type: ignore[arg-type]
            break
        except (PersistenceError, psycopg.OperationalError):
            if time.monotonic() > until:
                raise
            time.sleep(0.05)
    stored = app.recorder.max_notification_id() or 0
    while getattr(relay, "position", 0) < stored:
        if time.monotonic() > until:
            raise RuntimeError("the relay did not publish after the restart")
        time.sleep(0.01)
