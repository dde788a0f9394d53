"""Projection rebuild: events per second for `cpis replay` from offset zero.

Events are written straight to the topics (Avro, as the relay writes them): a registered
plan, then accesses, per synthetic child. Baseline, same run: plain consume of the same
topics + fastavro decode + psycopg COPY (binary, as the replay writes) of the same rows into
plain tables.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from bench.common import Result, fresh_schemas, timed
from bench.relay import produce_plain
from domain.model.access import Access
from domain.model.record import ChildProtectionRecord as Record
from domain.model.record import record_id
from streams.avro.codec import encode_event
from streams.avro.stored import Outgoing
from streams.avro.wire import WireFormat
from streams.bootstrap import (
    build_topic_schemas,
    build_view_store,
    build_wire_format,
    topics_of,
)
from streams.kafka.admin import ensure_topics
from streams.kafka.assign import assign_at_once
from streams.projection.replay import replay
from streams.settings import Settings
from tests.builders import UPLOAD, person, plan, synthetic_nhs_numbers

TARGET = 50_000.0
ACCESSES_PER_CHILD = 4
R: Any = Record


def synthetic_messages(wire: WireFormat, events: int) -> list[Outgoing]:
    """(topic, value, key) of a plan and its accesses for child after child, in Confluent's
    wire format as the relay publishes them."""
    registry, topics = wire.schemas, wire.topics
    out: list[Outgoing] = []
    at = datetime(2026, 11, 1, tzinfo=UTC)
    children = synthetic_nhs_numbers(events // (1 + ACCESSES_PER_CHILD) + 1, start=200_000)
    for nhs in children:
        rid, key = record_id(nhs), nhs.value.encode()
        common = {"originator_id": rid, "timestamp": at, "nhs_number": nhs}
        registered = R.PlanRegistered(originator_version=2, plan=plan(), provenance=UPLOAD,
                                      **common)
        out.append((topics.plans,
                    wire.framed(registry.encode(*encode_event(registered, len(out)))), key))
        for i in range(ACCESSES_PER_CHILD):
            access = Access(str(uuid.uuid4()), at + timedelta(minutes=i), person(str(i)))
            accessed = R.InformationAccessed(originator_version=3 + i, access=access,
                                             notify=["X26"], provenance=UPLOAD, **common)
            out.append((topics.accesses,
                        wire.framed(registry.encode(*encode_event(accessed, len(out)))), key))
        if len(out) >= events:
            break
    return out[:events]


def baseline(settings: Settings, topics: Any) -> int:
    """Consume, decode with fastavro, COPY the plan and access rows: no handlers."""
    registry = build_topic_schemas(settings)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"bench-{uuid.uuid4()}", "enable.partition.eof": True,
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    parts = [TopicPartition(t, p, OFFSET_BEGINNING) for t in (topics.plans, topics.accesses)
             for p in range(3)]
    assign_at_once(consumer, parts)  # as the replay's workers do
    pending, count = {(p.topic, p.partition) for p in parts}, 0
    schema = settings.views_schema
    info = settings.postgres.conninfo()
    with psycopg.connect(info) as conn, psycopg.connect(info) as conn2:  # one COPY each
        conn.execute(f'CREATE TABLE "{schema}".b_plans (nhs text, ods text, type text, '
                     "start_at timestamp)")
        conn.execute(f'CREATE TABLE "{schema}".b_access (nhs text, access_id text, '
                     "accessed_at timestamptz, author text)")
        conn.commit()
        with conn.cursor() as cur, conn2.cursor() as cur2, \
                cur.copy(f'COPY "{schema}".b_plans FROM STDIN (FORMAT BINARY)') as plans, \
                cur2.copy(f'COPY "{schema}".b_access FROM STDIN (FORMAT BINARY)') as accesses:
            plans.set_types(["text", "text", "text", "timestamp"])  # binary, as cpis replay
            accesses.set_types(["text", "text", "timestamptz", "text"])
            while pending:
                for m in consumer.consume(2000, 0.05):  # back soon after the ends
                    error = m.error()
                    if error is not None and error.code() == KafkaError._PARTITION_EOF:
                        pending.discard((str(m.topic()), int(m.partition() or 0)))
                        continue
                    _, record = registry.decode(m.value() or b"")
                    count += 1
                    if "plan" in record:
                        p = record["plan"]
                        plans.write_row((record["nhs_number"], p["local_authority"]["ods_code"],
                                         p["plan_type"], p["start"]))
                    else:
                        a = record["access"]
                        accesses.write_row((record["nhs_number"], a["access_id"],
                                            a["accessed_at"], str(a["author"])))
    consumer.close()
    return count


def run(settings: Settings, events: int = 1_000_000) -> Result:
    with fresh_schemas(settings) as bench:
        topics = topics_of(bench)
        ensure_topics(bench.kafka_bootstrap, topics)
        produce_plain(bench.kafka_bootstrap, synthetic_messages(build_wire_format(bench), events))
        report = replay(build_view_store(bench), build_topic_schemas(bench), bench.kafka_bootstrap,
                        topics)  # batch size and workers: as `cpis replay` by default
        seconds_base = timed(lambda: baseline(bench, topics))
    rate, base = report.messages / report.seconds, events / seconds_base
    return Result(f"projection rebuild (cpis replay of {events:,} events)", "events/s", rate,
                  base, "plain consume + Avro decode + psycopg COPY",
                  f">= {TARGET:,.0f} events/s and >= 50% of baseline",
                  rate >= TARGET and rate >= 0.5 * base,
                  {"events": report.messages, "seconds": report.seconds,
                   "workers": report.workers,
                   "baseline_seconds": seconds_base})
