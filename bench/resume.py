"""Resume: how soon the relay publishes again once PostgreSQL or Kafka is back from a
restart (`infra/postgres.sh restart`, `infra/kafka.sh restart`, so only where infra/ started
it). The clock starts when the restart script returns, the server accepting connections
again; the relay's time ends when a plan stored after the restart is on Kafka (it counts the
baseline's time too: the plan is stored once the baseline is done). Baseline,
same run, from that same moment: a plain psycopg connect and `SELECT 1`, or a plain
idempotent produce of one message, delivered (how soon anything can use the server). Three
restarts; medians. Not in the default run: it restarts a server under everything."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import psycopg
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from eventsourcing.persistence import PersistenceError

from bench.common import Result, fresh_schemas
from domain.application.app import CpisApplication
from streams.bootstrap import build_application, build_relay, topics_of
from streams.kafka.admin import create_missing, ensure_topics
from streams.settings import Settings
from tests.builders import UPLOAD, plan, synthetic_nhs_numbers

RESTARTS, DOWN_SECONDS = 3, 2
INFRA = Path(__file__).resolve().parents[1] / "infra"
PROBE_TOPIC = "cpis-bench-resume-probe"


@dataclass(frozen=True)
class Server:
    """A server the benchmark restarts: its name, its infra script, and the baseline's
    plain use of it."""

    name: str
    script: str
    baseline: str
    plain_use: Callable[[Settings], None]


def plain_connect(settings: Settings) -> None:
    with psycopg.connect(settings.postgres.conninfo()) as conn:
        conn.execute("SELECT 1")


def plain_produce(settings: Settings, deadline: float = 120) -> None:
    """One message delivered to a topic of its own, trying until one is: a broker taking
    writes again."""
    producer = Producer({"bootstrap.servers": settings.require_kafka(),
                         "enable.idempotence": True, "acks": "all"})
    until = time.monotonic() + deadline
    errors: list[KafkaError | None] = []
    while True:
        errors.clear()
        producer.produce(PROBE_TOPIC, b"back", on_delivery=lambda e, _: errors.append(e))
        producer.flush(max(0.0, until - time.monotonic()))
        if errors and errors[0] is None:
            return
        if time.monotonic() > until:
            raise RuntimeError(f"no plain produce delivered within {deadline} s: {errors}")


SERVERS = {
    "postgres": Server("PostgreSQL", "postgres.sh",
                       "plain psycopg connect + SELECT 1 after the same restart", plain_connect),
    "kafka": Server("Kafka", "kafka.sh", "plain idempotent produce of one message, delivered, "
                    "after the same restart", plain_produce),
}


def run(settings: Settings, server: str = "postgres") -> Result:
    restarted = SERVERS[server]
    with fresh_schemas(settings) as bench:
        ensure_topics(bench.require_kafka(), topics_of(bench))
        create_missing(AdminClient({"bootstrap.servers": bench.require_kafka()}),
                       [NewTopic(PROBE_TOPIC, 1, 1)])
        app = build_application(bench)
        relay = build_relay(bench, app)
        stop = threading.Event()
        running = threading.Thread(target=relay.run, kwargs={"stop": stop.is_set}, daemon=True)
        running.start()
        try:
            numbers = synthetic_nhs_numbers(RESTARTS + 1, start=3_000)
            published_by(app, relay, numbers[0], deadline=60)
            times = [one_restart(bench, restarted, app, relay, number)
                     for number in numbers[1:]]
        finally:
            stop.set()
            running.join(30)
            app.close()
    relay_s, plain_s = median(t[0] for t in times), median(t[1] for t in times)
    return Result(f"relay back after a {restarted.name} restart", "s", relay_s, plain_s,
                  restarted.baseline, "~2 s", relay_s <= 2.5,
                  {"restarts": RESTARTS, "down_seconds": DOWN_SECONDS,
                   "relay_s": [round(t[0], 3) for t in times],
                   "plain_s": [round(t[1], 3) for t in times]})


def one_restart(settings: Settings, server: Server, app: CpisApplication, relay: object,
                number: object) -> tuple[float, float]:
    subprocess.run([str(INFRA / server.script), "restart", str(DOWN_SECONDS)], check=True,
                   capture_output=True)
    back = time.monotonic()
    server.plain_use(settings)
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
