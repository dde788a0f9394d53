"""The PDS identity-change feed on Kafka (our own schema, uk.nhs.cpis.pds.IdentityChange).

The follower: 1. consumes a batch; 2. applies each change (a merge or a retirement, saved
by the application); 3. commits the consumer offsets only then. A crash before 3 replays the
batch, and applying a change twice changes nothing. A message that cannot be read goes to
the dead-letter topic with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial

import psycopg
from confluent_kafka import Consumer, Producer
from eventsourcing.persistence import PersistenceError

from domain.application.app import CpisApplication
from domain.application.identity import apply_identity_change
from domain.application.store import UNAVAILABLE
from domain.model.errors import DomainError
from domain.model.identity import ChangeKind, IdentityChange
from domain.model.nhs_number import NhsNumber
from streams.avro.schemas import AvroError, AvroSchemas
from streams.avro.wire import WireFormat
from streams.kafka.topics import Topics
from streams.ops import metrics
from streams.ops.retrying import StoppedWaitingError, until_up
from streams.projection.projector import KafkaDeadLetters, as_message
from streams.projection.writer import Consumed
from streams.waiting import IdleClock

log = logging.getLogger(__name__)
SCHEMA = "uk.nhs.cpis.pds.IdentityChange"
STORE_AWAY = (*UNAVAILABLE, PersistenceError, psycopg.OperationalError)


def encode_change(registry: AvroSchemas, change: IdentityChange) -> bytes:
    return registry.encode(SCHEMA, {
        "feed_id": change.feed_id, "change": change.kind.value,
        "nhs_number": change.nhs_number.value,
        "replacement": change.replacement.value if change.replacement else None})


def decode_change(registry: AvroSchemas, data: bytes) -> IdentityChange:
    name, record = registry.decode(data)
    if name != SCHEMA:
        raise AvroError(f"expected {SCHEMA} on the PDS feed, got {name}")
    return IdentityChange(record["feed_id"], ChangeKind(record["change"]),
                          NhsNumber(record["nhs_number"]),
                          NhsNumber(record["replacement"]) if record["replacement"] else None)


def publish_changes(bootstrap: str, wire: WireFormat, changes: Iterable[IdentityChange]
                    ) -> int:
    """Publish on the PDS topic, in Confluent's wire format."""
    producer, count = Producer({"bootstrap.servers": bootstrap}), 0
    for change in changes:
        producer.produce(wire.topics.pds_changes, key=change.nhs_number.value.encode(),
                         value=wire.framed(encode_change(wire.schemas, change)))
        producer.poll(0)
        count += 1
    if producer.flush(30) > 0:
        raise RuntimeError("PDS feed messages not delivered")
    return count


class PdsFeedFollower:
    def __init__(self, app: CpisApplication, bootstrap: str, schemas: AvroSchemas, topics: Topics,
                 group_id: str = "cpis-pds-feed") -> None:
        self.app = app
        self.topic = topics.pds_changes
        dead_letter = topics.dead_letter
        self.registry = schemas
        self.dead_letters = KafkaDeadLetters(bootstrap, dead_letter)
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
            "auto.offset.reset": "earliest"})
        self.applied = 0
        self.ignored = 0

    def run(self, stop: Callable[[], bool] = lambda: False,
            idle_timeout: float | None = None) -> int:
        self.consumer.subscribe([self.topic])
        idle = IdleClock(idle_timeout)
        try:
            while not stop():
                batch = [as_message(m) for m in self.consumer.consume(200, 0.5)
                         if m.error() is None]
                if batch:
                    idle.busy()
                    self._apply(batch, stop)
                elif idle.idle_out(bool(self.consumer.assignment())):
                    break
        except StoppedWaitingError:
            log.info("PDS feed: stopped while the event store was away; the batch is taken "
                     "again on the next start")
        finally:
            self.consumer.close()
        return self.applied

    def _apply(self, batch: list[Consumed], stop: Callable[[], bool]) -> None:
        for message in batch:
            try:
                change = decode_change(self.registry, message.value or b"")
                # the event store away: the change waits for it (applying one twice changes
                # nothing), so the follower carries on within seconds of its return
                if until_up("event store", partial(apply_identity_change, self.app, change),
                            STORE_AWAY, stop):
                    self.applied += 1
                    metrics.IDENTITY_CHANGES.labels("applied").inc()
                else:
                    self.ignored += 1
                    metrics.IDENTITY_CHANGES.labels("not held").inc()
            except (AvroError, DomainError, ValueError) as error:
                self.dead_letters.send(message, f"{type(error).__name__}: {error}")
        self.dead_letters.flush()
        self.consumer.commit(asynchronous=False)
        log.info("PDS feed: %d changes applied, %d for numbers CP-IS does not hold",
                 self.applied, self.ignored)
