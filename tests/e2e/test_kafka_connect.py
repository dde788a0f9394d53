"""Topics landed by tools CP-IS did not write: Apache Kafka's Connect worker (standalone),
Apicurio's Avro converter reading Confluent's wire format by registry id, Connect's Flatten
transform and Debezium's JDBC sink, into tables of an analytics schema in PostgreSQL; the
rows compared with the events on the topics."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from domain.application.app import CpisApplication
from domain.model.plans import PlanType
from streams.avro.landing import landing_tables
from streams.bootstrap import build_relay, topics_of
from streams.settings import Settings
from tests.builders import UPLOAD, populate
from tests.kafka_reading import read_all, topic_schemas
from tests.services import fresh_schema

ROOT = Path(__file__).resolve().parents[2]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Table = tuple[str, str]  # schema, table


def worker_properties(settings: Settings, home: Path, tmp_path: Path) -> Path:
    registry = settings.schema_registry_url.removesuffix("/apis/ccompat/v7")
    path = tmp_path / "worker.properties"
    path.write_text("\n".join([
        f"bootstrap.servers={settings.kafka_bootstrap}",
        "key.converter=org.apache.kafka.connect.storage.StringConverter",
        "value.converter=io.apicurio.registry.utils.converter.AvroConverter",
        f"value.converter.apicurio.registry.url={registry}/apis/registry/v2",
        # Confluent's wire format: a 4-byte id, the registry's content id
        "value.converter.apicurio.registry.as-confluent=true",
        "value.converter.apicurio.registry.use-id=contentId",
        "consumer.isolation.level=read_committed",
        "consumer.auto.offset.reset=earliest",
        f"offset.storage.file.filename={tmp_path / 'offsets'}",
        f"plugin.path={home / 'plugins'}",
        "listeners=http://127.0.0.1:0",
    ]) + "\n")
    return path


def sink_properties(settings: Settings, analytics: str, tmp_path: Path) -> Path:
    topics = topics_of(settings)
    pg = settings.postgres
    path = tmp_path / "sink.properties"
    path.write_text("\n".join([
        "name=cpis-analytics",
        "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector",
        f"topics={topics.plans},{topics.accesses}",
        f"connection.url=jdbc:postgresql://{pg.host}:{pg.port}/{pg.dbname}",
        f"connection.username={pg.user}",
        f"connection.password={pg.password}",
        "insert.mode=insert",
        "primary.key.mode=none",
        "schema.evolution=none",  # the tables exist: streams/avro/landing.py
        "quote.identifiers=true",  # a field is named `end`
        f"collection.name.format={analytics}.${{topic}}",
        "transforms=flatten",
        "transforms.flatten.type=org.apache.kafka.connect.transforms.Flatten$Value",
        "transforms.flatten.delimiter=_",
    ]) + "\n")
    return path


def micros(at: datetime) -> int:
    return (at.replace(tzinfo=at.tzinfo or UTC) - EPOCH) // timedelta(microseconds=1)


def rows(settings: Settings, table: Table) -> list[dict[str, Any]]:
    query = sql.SQL("SELECT * FROM {}.{} ORDER BY position").format(*map(sql.Identifier, table))
    with psycopg.connect(settings.postgres.conninfo(), row_factory=dict_row) as conn:
        return conn.execute(query).fetchall()


def landed(settings: Settings, tables: dict[Table, int], worker: subprocess.Popen[bytes],
           log: Path, timeout: float = 120.0) -> None:
    """Wait until each table holds its count of rows; fail with the worker's log if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise AssertionError(f"Connect worker exited: {log.read_text()[-3000:]}")
        if all(len(rows(settings, t)) >= n for t, n in tables.items()):
            return
        time.sleep(1.0)
    raise AssertionError(f"rows did not land in {timeout:.0f}s: {log.read_text()[-3000:]}")


def test_debeziums_jdbc_sink_lands_plans_and_accesses_equal_to_the_events(
    stream_settings: Settings, stream_app: CpisApplication, kafka_connect: Path,
    tmp_path: Path,
) -> None:
    numbers = populate(stream_app, children=3, accesses_each=2)
    stream_app.end_plan(numbers[0], "X27", PlanType.CHILD_PROTECTION_PLAN,
                        datetime(2026, 3, 1, 9, 0), UPLOAD)
    build_relay(stream_settings, stream_app).run(until_caught_up=True)
    topics, kafka, schemas = topics_of(stream_settings), stream_settings.kafka_bootstrap, \
        topic_schemas()
    events = {topic: sorted((schemas.decode(m.value()) for m in read_all(kafka, topic)),
                            key=lambda event: int(event[1]["position"]))
              for topic in (topics.plans, topics.accesses)}

    with fresh_schema(stream_settings.postgres, "analytics") as analytics:
        with psycopg.connect(stream_settings.postgres.conninfo(), autocommit=True) as conn:
            conn.execute(landing_tables(topics, [topics.plans, topics.accesses], analytics))
        plans = (analytics, topics.plans.replace(".", "_"))
        accesses = (analytics, topics.accesses.replace(".", "_"))
        run_sink(stream_settings, kafka_connect, tmp_path, analytics,
                 {plans: len(events[topics.plans]), accesses: len(events[topics.accesses])})
        plan_rows, access_rows = rows(stream_settings, plans), rows(stream_settings, accesses)

    assert [(r["position"], r["nhs_number"], r["plan_plan_type"],
             r["plan_local_authority_ods_code"], r["plan_type"], r["ods_code"],
             r["provenance_channel"]) for r in plan_rows] == [
        (e["position"], e["nhs_number"], (e.get("plan") or {}).get("plan_type"),
         ((e.get("plan") or {}).get("local_authority") or {}).get("ods_code"),
         e.get("plan_type"), e.get("ods_code"), e["provenance"]["channel"])
        for _, e in events[topics.plans]]
    assert {name for name, _ in events[topics.plans]} >= {
        "uk.nhs.cpis.events.RecordOpened", "uk.nhs.cpis.events.PlanRegistered",
        "uk.nhs.cpis.events.PlanEnded"}
    assert [(r["position"], r["nhs_number"], r["access_access_id"], r["access_accessed_at"],
             r["recorded_at"], r["notify"], r["access_author_PersonAuthor_family_name"])
            for r in access_rows] == [
        (e["position"], e["nhs_number"], e["access"]["access_id"],
         micros(e["access"]["accessed_at"]), micros(e["recorded_at"]), e["notify"],
         e["access"]["author"]["family_name"]) for _, e in events[topics.accesses]]


def run_sink(stream_settings: Settings, kafka_connect: Path, tmp_path: Path, analytics: str,
             expected: dict[Table, int]) -> None:
    """A Connect worker with the sink, until each landing table holds its expected rows."""
    log = tmp_path / "connect.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            ["infra/connect.sh", "run", str(worker_properties(stream_settings,
                                                              kafka_connect, tmp_path)),
             str(sink_properties(stream_settings, analytics, tmp_path))],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            landed(stream_settings, expected, worker, log)
        finally:
            worker.terminate()
            worker.wait(30)
