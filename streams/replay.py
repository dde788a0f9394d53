"""`cpis replay`: rebuild every view from offset zero into a fresh generation, then switch.

1. create generation N+1 (empty tables); 2. read every record-event topic from offset zero
(read_committed) up to its end, applying batches with the same handlers and storing offsets
with them; 3. switch the public views to N+1 in one transaction and drop N. A running
projector notices the switch and carries on from N+1's stored offsets.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from adapters.views.postgres import PostgresViews, PostgresViewStore
from streams.avro_registry import SchemaRegistry
from streams.projector import as_message
from streams.topics import Topics
from streams.view_writer import CountingDeadLetters, Message, apply_messages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayReport:
    generation: int
    previous_generation: int
    messages: int
    poison: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def _partitions(consumer: Consumer, topics: tuple[str, ...]) -> list[TopicPartition]:
    metadata = consumer.list_topics(timeout=30)
    found = []
    for topic in topics:
        if topic not in metadata.topics:
            raise RuntimeError(f"topic {topic} does not exist; has the relay run?")
        found += [TopicPartition(topic, p, OFFSET_BEGINNING)
                  for p in sorted(metadata.topics[topic].partitions)]
    return found


def replay(store: PostgresViewStore, registry: SchemaRegistry, bootstrap: str, topics: Topics,
           batch_size: int = 2000, progress: Callable[[int], None] | None = None,
           switch: bool = True) -> ReplayReport:
    started = time.monotonic()
    store.setup()
    generation = store.new_generation()
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"cpis-replay-{uuid.uuid4()}",
        "enable.auto.commit": False, "isolation.level": "read_committed",
        "enable.partition.eof": True,
    })
    dead = CountingDeadLetters()
    total = 0
    try:
        partitions = _partitions(consumer, topics.record_events)
        consumer.assign(partitions)
        pending = {(tp.topic, tp.partition) for tp in partitions}
        with store.connect() as conn:
            views = PostgresViews(conn, store.schema, generation)
            while pending:
                batch = _consume(consumer, batch_size, pending)
                if not batch:
                    continue
                with conn.transaction():
                    offsets = apply_messages(views, batch, registry, dead)
                    store.save_offsets(conn, generation, offsets)
                total += len(batch)
                if progress is not None:
                    progress(total)
    finally:
        consumer.close()
    previous = generation
    if switch:
        previous = store.switch_to(generation)
        store.drop_generation(previous)
    return ReplayReport(generation, previous, total, dead.count, time.monotonic() - started)


def _consume(consumer: Consumer, batch_size: int, pending: set[tuple[str, int]]) -> list[Message]:
    batch = []
    for m in consumer.consume(batch_size, 1.0):
        error = m.error()
        if error is None:
            batch.append(as_message(m))
        elif error.code() == KafkaError._PARTITION_EOF:
            pending.discard((str(m.topic()), int(m.partition() or 0)))
        else:
            raise RuntimeError(f"replay consumer error: {error}")
    return batch
