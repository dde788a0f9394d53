"""Relay: events per second from the PostgreSQL event store to Kafka (exactly once).

Measured from the relay's first read to its last commit; its start-up (fencing older
instances, reading the committed position: about a second, once per process) is reported
beside it. Baseline, same run: plain confluent-kafka produce of the very same Avro bytes
and keys (idempotent producer, acks=all, no transactions, no event-store reads), timed the
same way: from its first message to its last acknowledgement, its start-up (the producer id,
a fresh idempotent producer's id and the topics' metadata) reported beside it, so neither
side's rate includes a start-up the other does not pay.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import replace
from statistics import median

from confluent_kafka import KafkaError, Producer
from confluent_kafka import Message as KafkaMessage
from eventsourcing.persistence import Notification

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.common import Result, fresh_schemas, register_schemas, timed
from bench.cpu import Round, cpu_split, per_event_us
from bench.ingest import synthetic_file
from bench.producing import produce_each
from bench.transactional import transactional_round
from domain.application.app import CpisApplication
from domain.model.uploads import MAX_RECORDS
from streams.avro.codec import encode_event, message_key
from streams.avro.schemas import AvroSchemas
from streams.avro.stored import Outgoing
from streams.bootstrap import build_application, build_relay, topics_of
from streams.kafka.admin import ensure_topics
from streams.kafka.topics import Topics
from streams.relay.relay import BATCH_SIZE as RELAY_BATCH
from streams.relay.relay import LINGER_MS, TRANSACTION_EVENTS
from streams.settings import Settings

BATCH = RELAY_BATCH  # events per read of the store, as `cpis relay` by default
ROUNDS = 5  # of each, median reported: two cores shared with the broker make single runs noisy


def run(settings: Settings, events: int = 400_000) -> Result:
    with fresh_schemas(settings) as bench:
        app = build_application(bench)
        try:
            load_records(app, events // 2)
            rounds = [replace(bench, topic_prefix=f"{bench.topic_prefix}r{i}.")
                      for i in range(ROUNDS + 1)]
            for each in (*rounds, bench):  # all created before any is timed
                ensure_topics(each.require_kafka(), topics_of(each))
                register_schemas(each)
            stored = app.recorder.select_notifications(start=1, limit=events + 10)
            messages = plain_messages(app, stored, topics_of(bench))
            runs, baselines, transactional = interleaved(app, rounds, messages)
        finally:
            app.close()
    return result(len(stored), runs, baselines, transactional)


def interleaved(app: CpisApplication, rounds: list[Settings], messages: list[Outgoing]
                ) -> tuple[list[Round], list[Round], list[Round]]:
    """A relay round, then plain produce, then the transactional yardstick, ROUNDS times:
    this shared machine's speed drifts within a run (the speed probe moved 0.19-0.38 s in
    one), and rounds taken side by side meet the same drift. The first relay round, on
    rounds[0], warms the broker up untimed (a broker just started spends twice the CPU an
    event while its JIT compiles: 3.3 against 1.3 us). The baseline's messages are frozen
    out of the garbage collector's sight, so the relay's collections do not walk them."""
    bootstrap = rounds[0].require_kafka()
    gc.freeze()
    try:
        relay_round(rounds[0], app)
        runs, baselines, transactional = [], [], []
        for each in rounds[1:]:
            runs.append(relay_round(each, app))
            baselines.append(baseline_round(bootstrap, messages))
            transactional.append(transactional_round(bootstrap, messages))
    finally:
        gc.unfreeze()
    return runs, baselines, transactional


def result(count: int, runs: list[Round], baselines: list[Round],
           transactional: list[Round]) -> Result:
    transactional_rate = count / median(t[1] for t in transactional)
    seconds, baseline_seconds = median(r[1] for r in runs), median(b[1] for b in baselines)
    rate, baseline = count / seconds, count / baseline_seconds
    return Result("relay (event store -> Kafka, transactional, exactly once)", "events/s",
                  rate, baseline, "plain confluent-kafka produce of the same Avro bytes",
                  ">= 50% of baseline", rate >= 0.5 * baseline,
                  {"events": count, "rounds": ROUNDS, "seconds": seconds,
                   "baseline_seconds": baseline_seconds,
                   "rates": [round(count / r[1]) for r in runs],
                   "baseline_rates": [round(count / b[1]) for b in baselines],
                   # each relay round against the baseline round straight after it
                   "paired_ratios": [round(b[1] / r[1], 3)
                                     for r, b in zip(runs, baselines, strict=True)],
                   "startup_seconds": median(r[0] for r in runs),
                   "baseline_startup_seconds": median(b[0] for b in baselines),
                   # CPU an event while timed: this process, PostgreSQL, the broker
                   "cpu_us_per_event": median_cpu(runs, count),
                   "baseline_cpu_us_per_event": median_cpu(baselines, count),
                   # the same produce in transactions as the relay commits them (see
                   # bench/transactional.py): what exactly-once itself costs
                   "transactional_rates": [round(count / t[1]) for t in transactional],
                   "transactional_cpu_us_per_event": median_cpu(transactional, count),
                   "relay_to_transactional": round(rate / transactional_rate, 3),
                   "transactional_to_baseline": round(transactional_rate / baseline, 3),
                   "batch_size": BATCH, "transaction_events": TRANSACTION_EVENTS})


def load_records(app: CpisApplication, records: int) -> None:
    """`records` records (two events each) stored by uploads of at most MAX_RECORDS."""
    pds, files = SyntheticPds.load(), -(-records // MAX_RECORDS)
    for i in range(files):
        count = min(MAX_RECORDS, records - i * MAX_RECORDS)
        data = synthetic_file(count, sequence=i + 1, first=load_records_first(i))
        outcome = app.process_upload(parse_la_file(data), f"BENCH-{i}", pds)
        if outcome.failed or outcome.successful != count:
            raise RuntimeError(f"bench upload {i + 1}: {outcome.failed} records failed")


def load_records_first(file: int) -> int:
    """The first candidate NHS number of the `file`-th (from 0) upload load_records makes: 11
    candidates give at least 10 with a valid check digit, so no number comes twice."""
    return file * (MAX_RECORDS * 11 // 10 + 1)


def relay_round(settings: Settings, app: CpisApplication) -> Round:
    """(start-up seconds, publishing seconds, CPU split while publishing) of a new relay over
    the whole store, onto fresh topics (created already)."""
    relay = build_relay(settings, app, batch_size=BATCH)
    producer: list[Producer] = []
    startup = timed(lambda: producer.append(relay.start()))
    try:
        with cpu_split() as split:
            seconds = timed(lambda: relay.publish(producer[0], until_caught_up=True))
        producer[0].flush(10)
    finally:
        relay.close()
    return startup, seconds, split


def plain_messages(app: CpisApplication, stored: Sequence[Notification], topics: Topics
                   ) -> list[Outgoing]:
    """(topic, value, key) of each stored event, encoded by the domain path."""
    registry = AvroSchemas()
    messages = []
    for n in stored:
        event = app.mapper.to_domain_event(n)
        messages.append((topics.for_event(event), registry.encode(*encode_event(event, n.id)),
                         message_key(event).encode()))
    return messages


class Undelivered:
    """Delivery errors of a producer configured to report only those."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, error: KafkaError | None, _: KafkaMessage) -> None:
        if error is not None:
            self.errors.append(str(error))


def new_producer(bootstrap: str, undelivered: Undelivered) -> Producer:
    """The baseline's producer: idempotent, acks=all, batched and compressed as the relay's,
    a delivery report only for a message that failed."""
    return Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                     "acks": "all", "linger.ms": LINGER_MS, "compression.type": "lz4",
                     "on_delivery": undelivered, "delivery.report.only.error": True})


def plain_producer(bootstrap: str, topics: set[str], undelivered: Undelivered) -> Producer:
    """An idempotent producer that has delivered one message to each topic: its producer id
    acquired (a fresh idempotent producer's first delivery waits ~0.5 s for it) and every
    topic's metadata read, as the relay's own start-up does before it is timed."""
    producer = new_producer(bootstrap, undelivered)
    for topic in sorted(topics):
        producer.produce(topic, b"", b"warm-up")
    if producer.flush(30) or undelivered.errors:
        raise RuntimeError("baseline: the warm-up messages were not delivered")
    return producer


def produce_all(producer: Producer, messages: list[Outgoing], undelivered: Undelivered) -> None:
    """Produce (bench/producing.py) and wait for every acknowledgement; a message not
    delivered fails the run."""
    produce_each(producer, messages)
    left = producer.flush(60)
    if left or undelivered.errors:
        raise RuntimeError(f"baseline: {left} messages undelivered, {len(undelivered.errors)}"
                           f" failed ({undelivered.errors[:1]})")


def produce_plain(bootstrap: str, messages: list[Outgoing]) -> None:
    """All the messages produced by a new producer (to load a benchmark's topics)."""
    undelivered = Undelivered()
    produce_all(new_producer(bootstrap, undelivered), messages, undelivered)


def baseline_round(bootstrap: str, messages: list[Outgoing]) -> Round:
    """(start-up seconds, producing seconds, CPU split while producing) of plain produce,
    timed as the relay is: from its first message to its last acknowledgement, the
    producer's start-up apart."""
    undelivered = Undelivered()
    producer: list[Producer] = []
    startup = timed(lambda: producer.append(
        plain_producer(bootstrap, {t for t, _, _ in messages}, undelivered)))
    with cpu_split() as split:
        seconds = timed(lambda: produce_all(producer[0], messages, undelivered))
    return startup, seconds, split


def median_cpu(rounds: list[Round], events: int) -> dict[str, float]:
    """The median over the rounds of each share's CPU microseconds an event."""
    each = [per_event_us(split, events) for _, _, split in rounds]
    return {share: median(e.get(share, 0.0) for e in each) for share in each[0]}
