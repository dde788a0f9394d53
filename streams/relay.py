"""Relay: stored events -> Avro -> Kafka, exactly once and in order per NHS number.

Each batch is one Kafka transaction holding (1) every event of the batch on its topic, keyed
by NHS number, (2) the LA notifications those events cause, and (3) the event-store position
of the batch's last event on the relay-position topic. A crash anywhere aborts the open
transaction; on restart the relay reads the last committed position (read_committed) and
carries on after it. The fixed transactional.id fences an older relay still running.

Kafka or the event store going away (a broker or PostgreSQL restart) does not end the relay:
it drops its producer and starts again - fencing aborts the open transaction, and it re-reads
the committed position - once they answer again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from eventsourcing.persistence import Notification, PersistenceError

from domain.application import CpisApplication
from domain.notifications import notifications_due
from streams.avro_registry import SchemaRegistry
from streams.event_codec import encode_event, encode_notification, message_key
from streams.topics import Topics
from streams.waiting import sleep_unless_stopped

log = logging.getLogger(__name__)
POSITION_KEY = b"relay-position"
# what a broker or database restart raises; the relay starts again when it passes
INTERRUPTIONS = (KafkaException, TimeoutError, PersistenceError, psycopg.OperationalError)


@dataclass(frozen=True)
class RelayConfig:
    bootstrap: str
    topics: Topics
    transactional_id: str = "cpis-relay"
    batch_size: int = 500
    idle_sleep: float = 0.2
    retry_seconds: float = 2.0


def read_committed_position(config: RelayConfig) -> int:
    """The last position committed by a relay transaction (0 when none)."""
    consumer = Consumer({
        "bootstrap.servers": config.bootstrap, "group.id": f"{config.transactional_id}-position",
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "enable.partition.eof": True, "fetch.wait.max.ms": 10,  # EOF at once, not in 0.5 s
    })
    try:
        consumer.assign([TopicPartition(config.topics.relay_position, 0, OFFSET_BEGINNING)])
        position = 0
        while True:
            message = consumer.poll(10.0)
            if message is None:
                raise TimeoutError("no answer from Kafka reading the relay position")
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    return position
                raise KafkaException(error)  # a broker away: the relay starts again
            position = int(message.value() or b"0")
    finally:
        consumer.close()


class Relay:
    def __init__(self, app: CpisApplication, registry: SchemaRegistry, config: RelayConfig,
                 on_batch: Callable[[int, int], None] | None = None) -> None:
        self.app = app
        self.registry = registry
        self.config = config
        self.on_batch = on_batch
        self.position = 0
        self.published = 0

    def _producer(self) -> Producer:
        producer = Producer({
            "bootstrap.servers": self.config.bootstrap,
            "transactional.id": self.config.transactional_id,
            "enable.idempotence": True, "acks": "all", "linger.ms": 5,
            "compression.type": "lz4",
        })
        producer.init_transactions(30)
        return producer

    def run(self, stop: Callable[[], bool] = lambda: False, until_caught_up: bool = False) -> int:
        """Publish until `stop()` (or, with until_caught_up, until nothing is left); start
        again after an interruption."""
        while True:
            try:
                return self._run_once(stop, until_caught_up)
            except INTERRUPTIONS as error:
                log.warning("relay interrupted (%s: %s); starting again in %.0f s",
                            type(error).__name__, error, self.config.retry_seconds)
                if sleep_unless_stopped(self.config.retry_seconds, stop):
                    return self.published

    def _run_once(self, stop: Callable[[], bool], until_caught_up: bool) -> int:
        producer = self.start()
        try:
            return self.publish(producer, stop, until_caught_up)
        finally:
            producer.flush(10)

    def start(self) -> Producer:
        """1. fence older instances (init_transactions), 2. then read their last commit."""
        producer = self._producer()
        self.position = read_committed_position(self.config)
        log.info("relay starting after event-store position %d", self.position)
        return producer

    def publish(self, producer: Producer, stop: Callable[[], bool] = lambda: False,
                until_caught_up: bool = False) -> int:
        while not stop():
            notifications = self.app.recorder.select_notifications(
                start=self.position + 1, limit=self.config.batch_size)
            if not notifications:
                if until_caught_up:
                    break
                time.sleep(self.config.idle_sleep)
                continue
            self._publish(producer, notifications)
        return self.published

    def _publish(self, producer: Producer, notifications: Sequence[Notification]) -> None:
        producer.begin_transaction()
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            self._produce_event(producer, event, notification.id)
            producer.poll(0)
        last = notifications[-1].id
        producer.produce(self.config.topics.relay_position, key=POSITION_KEY,
                         value=str(last).encode())
        producer.commit_transaction(60)
        self.position = last
        self.published += len(notifications)
        if self.on_batch is not None:
            self.on_batch(len(notifications), last)
        log.info("relay published %d events up to position %d", self.published, last)

    def _produce_event(self, producer: Producer, event: Any, position: int) -> None:
        key = message_key(event).encode()
        name, record = encode_event(event, position)
        headers: list[tuple[str, str | bytes | None]] = [
            ("cpis-event", name.encode()), ("cpis-position", str(position).encode())]
        producer.produce(self.config.topics.for_event(event), key=key,
                         value=self.registry.encode(name, record), headers=headers)
        for due in notifications_due(event):
            n_name, n_record = encode_notification(due, position)
            producer.produce(self.config.topics.la_notifications, key=key,
                             value=self.registry.encode(n_name, n_record),
                             headers=[("cpis-event", n_name.encode())])

