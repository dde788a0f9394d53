"""Relay: events per second from the PostgreSQL event store to Kafka (exactly once).

Measured from the relay's first read to its last commit; its start-up (fencing older
instances, reading the committed position: about a second, once per process) is reported
beside it. Baseline, same run: plain confluent-kafka produce of the very same Avro bytes
and keys (idempotent producer, acks=all, no transactions, no event-store reads), timed the
same way: from its first message to its last acknowledgement, its start-up (the producer id,
~0.5 s for a fresh idempotent producer, and the topics' metadata) reported beside it. (Until
2026-12-01 the baseline's start-up was inside its time: it made 75k events/s where a started
producer makes 400-900k, and the relay looked faster than its baseline.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from statistics import median

from confluent_kafka import KafkaError, Message, Producer
from eventsourcing.persistence import Notification

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.common import Result, fresh_schemas, timed
from bench.ingest import synthetic_file
from domain.application import CpisApplication
from streams.avro_registry import SchemaRegistry
from streams.bootstrap import build_application, build_relay, topics_of
from streams.event_codec import encode_event, message_key
from streams.kafka_admin import ensure_topics
from streams.relay import BATCH_SIZE as RELAY_BATCH
from streams.settings import Settings
from streams.topics import Topics

BATCH = RELAY_BATCH  # events per Kafka transaction, as `cpis relay` by default
ROUNDS = 3  # of each, median reported: two cores shared with the broker make single runs noisy


def run(settings: Settings, events: int = 40_000) -> Result:
    with fresh_schemas(settings) as bench:
        app = build_application(bench)
        try:
            app.process_upload(parse_la_file(synthetic_file(events // 2)), "BENCH",
                               SyntheticPds.load())
            runs = [relay_round(replace(bench, topic_prefix=f"{bench.topic_prefix}r{i}."), app)
                    for i in range(ROUNDS)]
            # read only now: 40,000 live objects during the runs would slow the relay's
            # garbage collections, which no real relay carries
            stored = app.recorder.select_notifications(start=1, limit=events + 10)
            messages = plain_messages(app, stored, topics_of(bench))
        finally:
            app.close()
        ensure_topics(bench.kafka_bootstrap, topics_of(bench))
        baselines = [baseline_round(bench.kafka_bootstrap, messages) for _ in range(ROUNDS)]
    count = len(stored)
    seconds, baseline_seconds = median(r[1] for r in runs), median(b[1] for b in baselines)
    rate, baseline = count / seconds, count / baseline_seconds
    return Result("relay (event store -> Kafka, transactional, exactly once)", "events/s",
                  rate, baseline, "plain confluent-kafka produce of the same Avro bytes",
                  ">= 50% of baseline", rate >= 0.5 * baseline,
                  {"events": count, "rounds": ROUNDS, "seconds": seconds,
                   "baseline_seconds": baseline_seconds,
                   "rates": [round(count / r[1]) for r in runs],
                   "baseline_rates": [round(count / b[1]) for b in baselines],
                   "startup_seconds": median(r[0] for r in runs),
                   "baseline_startup_seconds": median(b[0] for b in baselines),
                   "batch_size": BATCH})


def relay_round(settings: Settings, app: CpisApplication) -> tuple[float, float]:
    """(start-up seconds, publishing seconds) of a new relay over the whole store, onto
    fresh topics."""
    ensure_topics(settings.require_kafka(), topics_of(settings))
    relay = build_relay(settings, app, batch_size=BATCH)
    producer: list[Producer] = []
    startup = timed(lambda: producer.append(relay.start()))
    try:
        seconds = timed(lambda: relay.publish(producer[0], until_caught_up=True))
        producer[0].flush(10)
    finally:
        relay.close()
    return startup, seconds


def plain_messages(app: CpisApplication, stored: Sequence[Notification], topics: Topics
                   ) -> list[tuple[str, bytes, bytes]]:
    registry = SchemaRegistry()
    messages = []
    for n in stored:
        event = app.mapper.to_domain_event(n)
        messages.append((topics.for_event(event), message_key(event).encode(),
                         registry.encode(*encode_event(event, n.id))))
    return messages


def new_producer(bootstrap: str) -> Producer:
    """The baseline's producer: idempotent, acks=all, batched and compressed as the relay's."""
    return Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                     "acks": "all", "linger.ms": 5, "compression.type": "lz4"})


def plain_producer(bootstrap: str, topics: set[str]) -> Producer:
    """An idempotent producer that has delivered one message to each topic: its producer id
    acquired (a fresh idempotent producer's first delivery waits ~0.5 s for it) and every
    topic's metadata read, as the relay's own start-up does before it is timed."""
    producer = new_producer(bootstrap)
    for topic in sorted(topics):
        producer.produce(topic, key=b"warm-up", value=b"")
    if producer.flush(30):
        raise RuntimeError("baseline: the warm-up messages were not delivered")
    return producer


def produce_all(producer: Producer, messages: list[tuple[str, bytes, bytes]]) -> None:
    """Produce and wait for every acknowledgement; a message not delivered fails the run."""
    failed: list[str] = []

    def delivered(error: KafkaError | None, _: Message) -> None:
        if error is not None:
            failed.append(str(error))

    for topic, key, value in messages:
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    left = producer.flush(60)
    if left or failed:
        raise RuntimeError(f"baseline: {left} messages undelivered, {len(failed)} failed "
                           f"({failed[:1]})")


def produce_plain(bootstrap: str, messages: list[tuple[str, bytes, bytes]]) -> None:
    """All the messages produced by a new producer (to load a benchmark's topics)."""
    produce_all(new_producer(bootstrap), messages)


def baseline_round(bootstrap: str, messages: list[tuple[str, bytes, bytes]]
                   ) -> tuple[float, float]:
    """(start-up seconds, producing seconds) of plain produce, timed as the relay is: from
    its first message to its last acknowledgement, the producer's start-up apart."""
    producer: list[Producer] = []
    startup = timed(lambda: producer.append(plain_producer(bootstrap,
                                                           {t for t, _, _ in messages})))
    return startup, timed(lambda: produce_all(producer[0], messages))
