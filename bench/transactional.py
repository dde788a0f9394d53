"""The relay benchmark's second yardstick: plain produce of the same messages inside Kafka
transactions, committed as the relay commits them (every TRANSACTION_EVENTS messages), by
a producer configured as the relay's - no event-store reads, nothing encoded. The relay's
gap to plain produce then splits into what exactly-once costs on this broker (this against
plain produce) and what the relay's own work costs (the relay against this).
"""

from __future__ import annotations

import uuid

from confluent_kafka import Producer

from bench.common import timed
from bench.cpu import Round, cpu_split
from bench.producing import produce_each
from streams.avro.stored import Outgoing
from streams.relay.relay import TRANSACTION_EVENTS, producer_settings


def transactional_producer(bootstrap: str, topics: set[str]) -> Producer:
    """A started transactional producer (its id fenced in, one warm-up transaction on every
    topic committed), as the relay's start-up leaves its own."""
    producer = Producer(producer_settings(bootstrap,
                                          f"bench-transactional-{uuid.uuid4().hex}"))
    producer.init_transactions(30)
    producer.begin_transaction()
    for topic in sorted(topics):
        producer.produce(topic, b"", b"warm-up")
    producer.commit_transaction(30)
    return producer


def produce_in_transactions(producer: Producer, messages: list[Outgoing],
                            transaction_events: int = TRANSACTION_EVENTS) -> None:
    """Every message (bench/producing.py), `transaction_events` a transaction, each
    committed (a commit raises when a message of its transaction was not delivered)."""
    for start in range(0, len(messages), transaction_events):
        producer.begin_transaction()
        produce_each(producer, messages[start:start + transaction_events])
        producer.commit_transaction(60)


def transactional_round(bootstrap: str, messages: list[Outgoing]) -> Round:
    """(start-up seconds, producing seconds, CPU split while producing), timed as the relay
    is: from the first message to the last commit."""
    producer: list[Producer] = []
    startup = timed(lambda: producer.append(
        transactional_producer(bootstrap, {t for t, _, _ in messages})))
    with cpu_split() as split:
        seconds = timed(lambda: produce_in_transactions(producer[0], messages))
    return startup, seconds, split
