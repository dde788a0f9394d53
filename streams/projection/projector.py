"""Projector: Kafka topics -> projection handlers -> PostgreSQL views, offsets in the same
transaction.

Per batch: 1. consume up to `batch_size` messages; 2. open a transaction and read the active
view generation (share lock, so a replay cannot switch mid-batch); 3. apply each message in a
savepoint, poison ones to the dead-letter topic (flushed before commit); 4. write the next
offsets into the generation's offsets table; 5. commit. Kafka's own group offsets are not
used: on assignment, and after any failed batch, the consumer seeks to the stored offsets.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka import Message as KafkaMessage

from adapters.views.postgres import PostgresViewStore
from adapters.views.postgres_views import PostgresViews
from streams.avro.schemas import AvroSchemas
from streams.avro.wire import RegistryUnavailableError
from streams.gc_tuning import fewer_collections
from streams.kafka.topics import Topics
from streams.ops import checks, metrics
from streams.ops.retrying import until_up
from streams.projection.writer import Consumed, apply_messages
from streams.waiting import IdleClock

log = logging.getLogger(__name__)
LAG_EVERY_MS = 1000
DEFAULT_INSTANCE = "projector-1"  # a projector's static member id in its consumer group


@dataclass(frozen=True)
class ProjectorConfig:
    bootstrap: str
    topics: Topics
    group_id: str = "cpis-projector"
    batch_size: int = 500
    # static group membership: a projector restarted after a crash (same instance id) takes
    # its partitions back at once instead of waiting for the dead member's session to expire
    instance_id: str = DEFAULT_INSTANCE
    session_timeout_ms: int = 10_000


class KafkaDeadLetters:
    """Poison messages to the dead-letter topic, with the reason and origin in headers."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
        self.count = 0

    def send(self, message: Consumed, reason: str) -> None:
        log.warning("dead-lettering %s[%d]@%d: %s", message.topic, message.partition,
                    message.offset, reason, extra={
                        "kafka_topic": message.topic, "kafka_partition": message.partition,
                        "kafka_offset": message.offset, "reason": reason})
        metrics.DEAD_LETTERS.labels(reason.split(":", 1)[0]).inc()
        self.producer.produce(self.topic, key=message.key, value=message.value, headers=[
            ("cpis-dlq-reason", reason.encode()),
            ("cpis-dlq-topic", message.topic.encode()),
            ("cpis-dlq-partition", str(message.partition).encode()),
            ("cpis-dlq-offset", str(message.offset).encode()),
        ])
        self.count += 1

    def flush(self) -> None:
        if self.producer.flush(30) > 0:
            raise RuntimeError("dead-letter messages not delivered; batch not committed")


def as_message(m: KafkaMessage) -> Consumed:
    return Consumed(str(m.topic()), int(m.partition() or 0), int(m.offset() or 0), m.key(),
                   m.value())


class Projector:
    def __init__(self, store: PostgresViewStore, registry: AvroSchemas,
                 config: ProjectorConfig) -> None:
        self.store = store
        self.registry = registry
        self.config = config
        self.dead_letters = KafkaDeadLetters(config.bootstrap, config.topics.dead_letter)
        self.generation = 0
        self.applied = 0
        self.consumer = self._consumer()
        self.assigned: list[TopicPartition] = []
        self.lag_measured = 0.0
        self.next_offsets: dict[tuple[str, int], int] = {}  # what is applied, for the lag

    def _consumer(self) -> Consumer:
        config = self.config
        return Consumer({
            "bootstrap.servers": config.bootstrap, "group.id": config.group_id,
            "enable.auto.commit": False, "isolation.level": "read_committed",
            "auto.offset.reset": "earliest", "group.instance.id": config.instance_id,
            "session.timeout.ms": config.session_timeout_ms,
        })

    def _subscribe(self) -> None:
        self.consumer.subscribe(list(self.config.topics.record_events),
                                on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _rejoin(self) -> None:
        """A fatal consumer error (static membership: fenced by a member with our instance
        id, as after a broker restart) leaves that consumer dead for good: join with a new
        one, which takes the partitions back from the offsets stored with the views."""
        with contextlib.suppress(KafkaException):
            self.consumer.close()
        self.assigned = []
        self.consumer = self._consumer()
        self._subscribe()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Seek each assigned partition to the offset stored with the views (waiting for
        PostgreSQL should it be away: a raise here would end the projector)."""
        def stored_offsets() -> dict[tuple[str, int], int]:
            with self.store.connect() as conn:
                self.generation = self.store.active_generation(conn)
                return self.store.offsets(conn, self.generation)

        stored = until_up("view store", stored_offsets, (psycopg.OperationalError,))
        for tp in partitions:
            tp.offset = stored.get((tp.topic, tp.partition), OFFSET_BEGINNING)
        self.assigned = partitions
        self.next_offsets = dict(stored)
        consumer.assign(partitions)
        log.info("projector assigned %d partitions (generation %d)", len(partitions),
                 self.generation)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assigned = []

    def _reseek(self, conn: psycopg.Connection[dict[str, object]], generation: int) -> None:
        stored = self.store.offsets(conn, generation)
        self.generation = generation
        self.next_offsets = dict(stored)
        for tp in self.assigned:
            offset = stored.get((tp.topic, tp.partition), OFFSET_BEGINNING)
            self.consumer.seek(TopicPartition(tp.topic, tp.partition, offset))

    def run(self, stop: Callable[[], bool] = lambda: False,
            idle_timeout: float | None = None) -> int:
        """Project until stop(), or until nothing arrived for `idle_timeout` seconds once
        partitions are assigned (streams/waiting.py IdleClock)."""
        self.store.setup()
        self._subscribe()
        idle = IdleClock(idle_timeout)
        conn = self.store.connect()
        try:
            with fewer_collections():
                while not stop():
                    batch = self._consume()
                    if batch:
                        idle.busy()
                        conn = self._apply_or_rewind(conn, batch)
                    elif idle.idle_out(bool(self.assigned)):
                        break
        finally:
            conn.close()
            self.consumer.close()
        return self.applied

    def _consume(self) -> list[Consumed]:
        messages = self.consumer.consume(self.config.batch_size, 0.5)
        self._measure_lag()
        good = []
        for m in messages:
            error = m.error()
            if error is not None and (error.fatal() or error.code() == KafkaError._FATAL):
                log.warning("consumer failed (%s); joining the group again", error)
                self._rejoin()
                return []
            if error is not None:
                log.warning("consumer error: %s", error)
                continue
            good.append(as_message(m))
        return good

    def _apply_or_rewind(self, conn: psycopg.Connection[dict[str, object]],
                         batch: list[Consumed]) -> psycopg.Connection[dict[str, object]]:
        try:
            self._apply(conn, batch)
        except (psycopg.OperationalError, RegistryUnavailableError) as error:
            log.warning("view store or schema registry unavailable (%s); going on from the "
                        "stored offsets", error)
            conn.close()
            conn = until_up("view store and schema registry", self._reconnect,
                            (psycopg.OperationalError, OSError))
        return conn

    def _reconnect(self) -> psycopg.Connection[dict[str, object]]:
        """A new connection, the consumer put back at the views' stored offsets (the
        registry checked too: a batch failed on it)."""
        conn = self.store.connect()
        try:
            with conn.transaction():
                self._reseek(conn, self.store.active_generation(conn))
            texts = self.registry.registry
            if texts is not None and texts.url.startswith("http"):
                checks.registry(texts.url)()  # raises (an OSError) while it is away
        except BaseException:
            conn.close()
            raise
        return conn

    def _measure_lag(self) -> None:
        """Each assigned partition's high watermark less the next offset to apply: the high
        watermark as the last fetch response gave it (no request of its own), at most once
        every LAG_EVERY_MS."""
        now = time.monotonic()
        if now < self.lag_measured + LAG_EVERY_MS / 1000 or not self.assigned:
            return
        self.lag_measured = now
        try:
            positions = {(tp.topic, tp.partition): tp.offset
                         for tp in self.consumer.position(self.assigned)}
        except KafkaException:
            return  # a rebalance under way: measured next time
        for tp in self.assigned:
            low, high = self.consumer.get_watermark_offsets(tp, cached=True) or (-1, -1)
            if high < 0:
                continue  # not fetched from yet
            key = (tp.topic, tp.partition)
            # the consumer's position is past the transactions' commit markers, which take
            # offsets too; before it has one, what the views hold
            at = positions.get(key, -1)
            if at < 0:
                at = self.next_offsets.get(key, OFFSET_BEGINNING)
            metrics.PROJECTOR_LAG.labels(tp.topic, str(tp.partition)).set(
                max(0, high - (at if at >= 0 else max(low, 0))))

    def _apply(self, conn: psycopg.Connection[dict[str, object]], batch: list[Consumed]) -> None:
        with metrics.PROJECTOR_BATCH.time():
            self._apply_batch(conn, batch)
        metrics.PROJECTOR_MESSAGES.inc(len(batch))

    def _apply_batch(self, conn: psycopg.Connection[dict[str, object]], batch: list[Consumed]
                     ) -> None:
        with conn.transaction():
            generation = self.store.active_generation(conn)
            if generation != self.generation:
                log.info("views switched to generation %d; re-seeking", generation)
                self._reseek(conn, generation)
                return
            views = PostgresViews(conn, self.store.schema, generation)
            offsets = apply_messages(views, batch, self.registry, self.dead_letters)
            self.dead_letters.flush()
            self.store.save_offsets(conn, generation, offsets)
        self.next_offsets.update(offsets)
        self.applied += len(batch)
