"""Relay: stored events -> Avro -> Kafka, exactly once and in order per NHS number.

Each Kafka transaction holds (1) every event of a run of batches read from the store, on
its topic, keyed by NHS number, (2) the LA notifications those events cause, and (3) the
event-store position of the last event on the relay-position topic. A crash anywhere
aborts the open transaction; on restart the relay reads the last committed position
(read_committed) and carries on after it. The fixed transactional.id fences an older relay
still running.

Kafka, the event store or the schema registry going away (a restart) does not end the relay:
it drops its producer and starts again - fencing aborts the open transaction, and it re-reads
the committed position - once they answer again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
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
from eventsourcing.persistence import PersistenceError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_random_exponential

from streams.avro.stored import Outgoing
from streams.avro.wire import RegistryUnavailableError
from streams.gc_tuning import fewer_collections
from streams.kafka.admin import MAX_MESSAGE_BYTES
from streams.kafka.assign import assign_at_once
from streams.kafka.topics import Topics
from streams.ops import metrics
from streams.relay.reading import Batch, BatchEncoder, BatchReader
from streams.waiting import sleep_unless_stopped

log = logging.getLogger(__name__)
POSITION_KEY = b"relay-position"
# events read from the store at a time; each read is asked for before the batch before it is
# produced, in a thread. The two take turns on the interpreter lock, so what runs beside the
# producing is PostgreSQL's part of the read, and the read beside a commit's wait
BATCH_SIZE = 10_000
# events per Kafka transaction at most: batches are produced into one transaction until it
# holds this many. A commit waits for every message of its transaction to be acknowledged,
# with nothing produced meanwhile, so fewer, larger transactions keep the producer busy
# (docs/benchmarks.md). A quiet relay's transactions are as small as what is new.
TRANSACTION_EVENTS = 50_000
POLL_EVERY = 500  # messages produced between two polls of librdkafka's events
# how long librdkafka may hold a message to fill its batch. A commit sends what is held at
# once, so only a large transaction's messages wait for it; a shorter linger made the relay,
# producing slower than the broker takes messages, send many small batches, each costing the
# broker CPU
LINGER_MS = 20
# what a broker or database restart raises; the relay starts again when it passes
INTERRUPTIONS = (KafkaException, TimeoutError, PersistenceError, psycopg.OperationalError,
                 RegistryUnavailableError)


class _StoppedError(Exception):
    """Asked to stop while waiting to start again."""


def _stop_if(stopped: bool) -> None:
    if stopped:
        raise _StoppedError


def _interrupted(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    metrics.RELAY_INTERRUPTIONS.labels(type(error).__name__).inc()
    log.warning("relay interrupted (%s: %s); starting again in %.1f s", type(error).__name__,
                error, state.upcoming_sleep)


class MessageTooLargeError(RuntimeError):
    """A stored event too large for Kafka: retrying cannot help, so the relay stops, its
    position at the last committed batch (nothing after it is published or lost)."""

    def __init__(self, message: Outgoing, limit: int, committed: int) -> None:
        topic, value, key = message
        super().__init__(
            f"cannot publish an event of {len(value):,} bytes (key {key.decode()!r}) to "
            f"{topic}: over the {limit:,} bytes a message may have. The relay stopped "
            f"after event-store position {committed}, the last committed; nothing after it "
            f"is published.")


@dataclass(frozen=True)
class RelayConfig:
    bootstrap: str
    topics: Topics
    transactional_id: str = "cpis-relay"
    idle_sleep: float = 0.2
    retry_seconds: float = 2.0
    max_message_bytes: int = MAX_MESSAGE_BYTES
    transaction_events: int = TRANSACTION_EVENTS


def producer_settings(bootstrap: str, transactional_id: str,
                      max_message_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, object]:
    """The relay's producer: transactional (so idempotent, acks=all), batched for LINGER_MS,
    lz4, a delivery report only for a message that failed. The benchmark's transactional
    yardstick (bench/transactional.py) produces with the same."""
    return {"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
            "enable.idempotence": True, "acks": "all", "linger.ms": LINGER_MS,
            "compression.type": "lz4", "delivery.report.only.error": True,
            "message.max.bytes": max_message_bytes}


def read_committed_position(config: RelayConfig) -> int:
    """The last position committed by a relay transaction (0 when none)."""
    consumer = Consumer({
        "bootstrap.servers": config.bootstrap, "group.id": f"{config.transactional_id}-position",
        "isolation.level": "read_committed", "enable.auto.commit": False,
        # EOF at once, not after the default wait
        "enable.partition.eof": True, "fetch.wait.max.ms": 10,
    })
    try:
        assign_at_once(consumer, [TopicPartition(config.topics.relay_position, 0,
                                                 OFFSET_BEGINNING)])
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
    def __init__(self, encoder: BatchEncoder, config: RelayConfig,
                 on_batch: Callable[[int, int], None] | None = None) -> None:
        self.encoder = encoder
        self.config = config
        self.on_batch = on_batch
        self.position = 0
        self.published = 0
        self.reader: BatchReader | None = None

    def _producer(self) -> Producer:
        producer = Producer(producer_settings(self.config.bootstrap,
                                              self.config.transactional_id,
                                              self.config.max_message_bytes))
        producer.init_transactions(30)
        return producer

    def run(self, stop: Callable[[], bool] = lambda: False, until_caught_up: bool = False) -> int:
        """Publish until `stop()` (or, with until_caught_up, until nothing is left); start
        again after an interruption, waiting a growing, jittered while (at most
        `retry_seconds`, so it is back within that of its dependency)."""
        retrying = Retrying(
            retry=retry_if_exception_type(INTERRUPTIONS), reraise=True,
            wait=wait_random_exponential(multiplier=0.1, max=self.config.retry_seconds),
            sleep=lambda seconds: _stop_if(sleep_unless_stopped(seconds, stop)),
            before_sleep=_interrupted)
        try:
            return retrying(self._run_once, stop, until_caught_up)
        except _StoppedError:
            return self.published

    def _run_once(self, stop: Callable[[], bool], until_caught_up: bool) -> int:
        try:
            producer = self.start()
            try:
                return self.publish(producer, stop, until_caught_up)
            finally:
                producer.flush(10)
        finally:
            self.close()

    def start(self) -> Producer:
        """1. fence older instances (init_transactions), 2. then read their last commit,
        3. start the reader."""
        producer = self._producer()
        self.encoder.wire.prefetch()
        self.position = read_committed_position(self.config)
        metrics.RELAY_POSITION.set(self.position)
        log.info("relay starting after event-store position %d", self.position,
                 extra={"last_position": self.position})
        self.close()
        self.reader = BatchReader(self.encoder)
        return producer

    def close(self) -> None:
        """Stop the reading thread."""
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def publish(self, producer: Producer, stop: Callable[[], bool] = lambda: False,
                until_caught_up: bool = False) -> int:
        """Publish transaction after transaction (after start()). The reader reads and
        encodes the next batch in its thread, asked for before the current one is produced
        (see BATCH_SIZE)."""
        if self.reader is None:
            raise RuntimeError("start the relay before publishing")
        with fewer_collections():
            return self._publish_batches(self.reader, producer, stop, until_caught_up)

    def _publish_batches(self, reader: BatchReader, producer: Producer,
                         stop: Callable[[], bool], until_caught_up: bool) -> int:
        upcoming = reader.submit(self.position, self._read_limit(0))
        while not stop():
            batch = upcoming.result()
            if not batch.events:
                if until_caught_up:
                    break
                time.sleep(self.config.idle_sleep)
                upcoming = reader.submit(self.position, self._read_limit(0))
                continue
            upcoming = self._publish_transaction(producer, reader, batch, stop)
        return self.published

    def _read_limit(self, events: int) -> int:
        """Events the next read may take, the open transaction holding `events` (a read for
        the next transaction when it is full)."""
        room = self.config.transaction_events - events
        if room <= 0:
            room = self.config.transaction_events
        return min(self.encoder.batch_size, room)

    def _publish_transaction(self, producer: Producer, reader: BatchReader, batch: Batch,
                             stop: Callable[[], bool]) -> Future[Batch]:
        """One Kafka transaction: `batch`, then the batches after it as they are read (each
        asked for before the one before is produced), until it holds `transaction_events` events,
        the log has no more or `stop()`; then the position and the commit. Gives the next
        read."""
        producer.begin_transaction()
        events = 0
        while True:
            events += batch.events
            upcoming = reader.submit(batch.last_position, self._read_limit(events))
            self._produce(producer, batch)
            last = batch.last_position
            if events >= self.config.transaction_events or stop():
                break
            batch = upcoming.result()
            if not batch.events:
                break  # caught up: the read, empty, goes back to the caller
        self._produce_when_queued(producer, (self.config.topics.relay_position,
                                             str(last).encode(), POSITION_KEY))
        producer.commit_transaction(60)
        before, self.position = self.position, last
        self.published += events
        metrics.RELAY_EVENTS.inc(events)
        metrics.RELAY_TRANSACTIONS.inc()
        metrics.RELAY_POSITION.set(last)
        if self.on_batch is not None:
            self.on_batch(events, last)
        log.info("relay published %d events up to position %d", self.published, last,
                 extra={"events": events, "after_position": before, "last_position": last,
                        "transactional_id": self.config.transactional_id})
        return upcoming

    def _produce(self, producer: Producer, batch: Batch) -> None:
        """The batch's messages into the open transaction; a full librdkafka queue is waited
        on, a message too large for Kafka stops the relay."""
        produce, poll, messages = producer.produce, producer.poll, batch.messages
        try:
            for start in range(0, len(messages), POLL_EVERY):
                for message in messages[start:start + POLL_EVERY]:
                    try:  # costs nothing unless raised (Python 3.11)
                        produce(*message)  # topic, value, key: positional, half a keyword call's
                    except BufferError:
                        self._produce_when_queued(producer, message)
                poll(0)  # serve librdkafka's events; no delivery callbacks to run
        except KafkaException as error:
            if error.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE:
                raise MessageTooLargeError(message, self.config.max_message_bytes,
                                           self.position) from error
            raise

    @staticmethod
    def _produce_when_queued(producer: Producer, message: Outgoing) -> None:
        """Produce, when librdkafka's queue has room (it is sending the messages before)."""
        while True:
            try:
                producer.produce(*message)
                return
            except BufferError:
                producer.poll(0.05)
