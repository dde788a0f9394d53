"""Relay: events per second from the PostgreSQL event store to Kafka (exactly once).

Measured from the relay's first read to its last commit; its start-up (fencing older
instances, reading the committed position: about a second, once per process) is reported
beside it. Baseline, same run: plain confluent-kafka produce of the very same Avro bytes
and keys (idempotent producer, acks=all, no transactions, no event-store reads).
"""

from __future__ import annotations

from confluent_kafka import KafkaError, Message, Producer

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.common import Result, fresh_schemas, timed
from bench.ingest import synthetic_file
from streams.avro_registry import SchemaRegistry
from streams.bootstrap import build_application, build_relay, topics_of
from streams.event_codec import encode_event, message_key
from streams.kafka_admin import ensure_topics
from streams.settings import Settings

BATCH = 2000  # events per Kafka transaction


def run(settings: Settings, events: int = 40_000) -> Result:
    with fresh_schemas(settings) as bench:
        topics = topics_of(bench)
        ensure_topics(bench.kafka_bootstrap, topics)
        app = build_application(bench)
        try:
            app.process_upload(parse_la_file(synthetic_file(events // 2)), "BENCH",
                               SyntheticPds.load())
            relay = build_relay(bench, app, batch_size=BATCH)
            producer: list[Producer] = []
            startup = timed(lambda: producer.append(relay.start()))
            seconds = timed(lambda: relay.publish(producer[0], until_caught_up=True))
            producer[0].flush(10)
            relay.close()
            # read only now: 40,000 live objects during the run would slow the relay's
            # garbage collections, which no real relay carries
            stored = app.recorder.select_notifications(start=1, limit=events + 10)
            registry = SchemaRegistry()
            messages = []
            for n in stored:
                event = app.mapper.to_domain_event(n)
                messages.append((topics.for_event(event), message_key(event).encode(),
                                 registry.encode(*encode_event(event, n.id))))
        finally:
            app.close()
        baseline_seconds = timed(lambda: produce_plain(bench.kafka_bootstrap, messages))
    count = len(stored)
    rate, baseline = count / seconds, count / baseline_seconds
    return Result("relay (event store -> Kafka, transactional, exactly once)", "events/s",
                  rate, baseline, "plain confluent-kafka produce of the same Avro bytes",
                  ">= 50% of baseline", rate >= 0.5 * baseline,
                  {"events": count, "seconds": seconds, "baseline_seconds": baseline_seconds,
                   "startup_seconds": startup, "batch_size": BATCH})


def produce_plain(bootstrap: str, messages: list[tuple[str, bytes, bytes]]) -> None:
    """Produce and wait for every acknowledgement; a message not delivered fails the run."""
    failed: list[str] = []

    def delivered(error: KafkaError | None, _: Message) -> None:
        if error is not None:
            failed.append(str(error))

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5, "compression.type": "lz4"})
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
