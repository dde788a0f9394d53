"""Relay against a real Kafka broker and a PostgreSQL event store."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from typing import Any

import pytest
from confluent_kafka import Producer

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.record import ChildProtectionRecord as Record
from domain.model.uploads import MAX_RECORDS
from streams.avro.codec import decode_event, encode_event
from streams.avro.schemas import MAGIC, AvroSchemas
from streams.bootstrap import build_relay, build_wire_format, topics_of
from streams.relay.relay import MessageTooLargeError, Relay, read_committed_position
from streams.settings import Settings
from tests.builders import CHILD, OTHER_CHILD, UPLOAD, person, plan, populate
from tests.kafka_reading import read_all, read_events, topic_schemas

REGISTRY = AvroSchemas()


def test_every_stored_event_is_published_once_on_its_topic_keyed_by_nhs_number(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    numbers = populate(stream_app, children=5, accesses_each=2)
    stream_app.mark_inactive(numbers[0], UPLOAD)
    relay = build_relay(stream_settings, stream_app, batch_size=7)
    assert relay.run(until_caught_up=True) == 5 * 6 + 1  # each access claims its event id

    topics, kafka = topics_of(stream_settings), stream_settings.kafka_bootstrap
    plans = read_events(kafka, topics.plans)
    accesses = read_events(kafka, topics.accesses)
    identity = read_events(kafka, topics.identity)
    claims = read_events(kafka, topics.query_audit)
    assert len(claims) == 10
    assert {type(e) for _, e, _ in plans} == {Record.Opened, Record.PlanRegistered}
    assert len(plans) == 10  # 5 x (opened, registered)
    assert len(accesses) == 10
    assert all(isinstance(e, Record.InformationAccessed) for _, e, _ in accesses)
    assert [type(e) for _, e, _ in identity] == [Record.NhsNumberMarkedInactive]
    for key, event, _ in plans + accesses + identity + claims:
        assert key == event.nhs_number.value
    positions = sorted(p for _, _, p in plans + accesses + identity + claims)
    assert positions == list(range(positions[0], positions[0] + 31))


def test_events_of_one_nhs_number_arrive_in_version_order(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=3, accesses_each=5)
    build_relay(stream_settings, stream_app, batch_size=4).run(until_caught_up=True)
    versions: dict[str, list[int]] = defaultdict(list)
    for key, event, _ in read_events(stream_settings.kafka_bootstrap,
                                     topics_of(stream_settings).accesses):
        versions[key].append(event.originator_version)
    assert len(versions) == 3
    for seen in versions.values():
        assert seen == sorted(seen)


@pytest.mark.parametrize(("read", "transaction", "commits"), [
    (4, 8, [(8, 8), (8, 16), (8, 24), (6, 30)]),
    (4, 6, [(6, 6 * i) for i in range(1, 6)]),  # the last read of each is cut to fit
    (10, 3, [(3, 3 * i) for i in range(1, 11)]),  # reads no larger than one
])
def test_a_transaction_takes_batch_after_batch_until_it_holds_its_events(
    stream_settings: Settings, stream_app: CpisApplication, read: int, transaction: int,
    commits: list[tuple[int, int]],
) -> None:
    """Transactions of at most `transaction` events over reads of `read`: each commit
    names the last position it holds; every event published once."""
    populate(stream_app, children=5, accesses_each=2)
    relay = build_relay(stream_settings, stream_app, batch_size=read,
                        transaction_events=transaction)
    committed: list[tuple[int, int]] = []
    relay.on_batch = lambda events, last: committed.append((events, last))
    assert relay.run(until_caught_up=True) == 30
    assert committed == commits
    assert read_committed_position(relay.config) == 30
    published = read_events(stream_settings.kafka_bootstrap, topics_of(stream_settings).plans)
    assert sorted(p for _, _, p in published) == [1, 2, 7, 8, 13, 14, 19, 20, 25, 26]


class SmallQueueRelay(Relay):
    """A relay whose librdkafka queue holds 3 messages: producing more waits for room."""

    def _producer(self) -> Producer:
        producer = Producer({"bootstrap.servers": self.config.bootstrap,
                             "transactional.id": self.config.transactional_id,
                             "enable.idempotence": True, "acks": "all",
                             "queue.buffering.max.messages": 3})
        producer.init_transactions(30)
        return producer


def test_a_full_producer_queue_is_waited_on_and_nothing_is_lost_or_doubled(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=3, accesses_each=3)
    built = build_relay(stream_settings, stream_app)
    relay = SmallQueueRelay(built.encoder, built.config)
    assert relay.run(until_caught_up=True) == 3 * 8
    kafka, topics = stream_settings.kafka_bootstrap, topics_of(stream_settings)
    accesses = read_events(kafka, topics.accesses)
    assert sorted(p for _, _, p in accesses) == [3, 5, 7, 11, 13, 15, 19, 21, 23]
    assert len(read_all(kafka, topics.la_notifications)) == 9


def test_each_access_causes_one_notification_per_responsible_local_authority(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=2, accesses_each=3)
    build_relay(stream_settings, stream_app).run(until_caught_up=True)
    notes = read_all(stream_settings.kafka_bootstrap, topics_of(stream_settings).la_notifications)
    assert len(notes) == 6
    registry = topic_schemas()
    assert {m.value()[0] for m in notes} == {0}  # Confluent's wire format
    assert {registry.decode(m.value())[0] for m in notes} == {
        "uk.nhs.cpis.notifications.LocalAuthorityNotificationDue"}
    assert {m.headers() for m in notes} == {None}  # the value names its schema


def test_a_restarted_relay_publishes_only_what_is_new(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=2, accesses_each=1)
    assert build_relay(stream_settings, stream_app).run(until_caught_up=True) == 8
    assert build_relay(stream_settings, stream_app).run(until_caught_up=True) == 0
    stream_app.upload_plan(CHILD, plan(), UPLOAD)
    assert build_relay(stream_settings, stream_app).run(until_caught_up=True) == 2
    assert len(read_events(stream_settings.kafka_bootstrap, topics_of(stream_settings).plans)) == 6


def test_a_store_holding_json_and_avro_events_is_published_alike(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    """Events stored as JSON (before events were stored as Avro) and as Avro messages give the
    same messages: each carries its own position and key, and reads back as stored."""
    json_app = CpisApplication(env=stream_settings.event_store_env(),  # the library's JSON
                               clock=stream_app.clock)
    try:
        json_app.upload_plan(CHILD, plan(), UPLOAD)
        json_app.query(QueryRequest(CHILD, person(), stream_app.clock(), "JSON-1", UPLOAD))
    finally:
        json_app.close()
    stream_app.query(QueryRequest(CHILD, person(), stream_app.clock(), "AVRO-1", UPLOAD))
    stream_app.upload_plan(OTHER_CHILD, plan(), UPLOAD)
    states = [n.state for n in stream_app.recorder.select_notifications(1, 10)]
    assert [s.startswith(MAGIC) for s in states] == [False] * 4 + [True] * 4

    assert build_relay(stream_settings, stream_app, batch_size=4).run(until_caught_up=True) == 8
    topics, kafka = topics_of(stream_settings), stream_settings.kafka_bootstrap
    published = sorted(read_events(kafka, topics.plans) + read_events(kafka, topics.accesses)
                       + read_events(kafka, topics.query_audit), key=lambda m: m[2])
    stored: list[Any] = [stream_app.mapper.to_domain_event(n)
              for n in stream_app.recorder.select_notifications(1, 10)]
    assert [(key, event) for key, event, _ in published] == [
        (e.nhs_number.value, e) for e in stored]
    assert [position for _, _, position in published] == list(range(1, 9))
    assert len(read_all(kafka, topics.la_notifications)) == 2


def test_copied_events_holding_their_positions_are_published_as_the_domain_encodes_them(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    """A large upload is copied with each event's position written in, a small save takes
    the library's insert (position 0, written in by the relay): both give, byte for byte,
    the messages the domain path encodes."""
    stream_app.process_upload(parse_la_file(synthetic_file(40)), "COPIED", SyntheticPds.load())
    stream_app.upload_plan(CHILD, plan(), UPLOAD)
    stored = stream_app.recorder.select_notifications(1, 200)
    held = [REGISTRY.decode(n.state)[1]["position"] for n in stored]
    assert len(stored) > 80 + 2
    assert held[:-2] == [n.id for n in stored[:-2]]  # the copied file's events and ledger's
    assert held[-2:] == [0, 0]  # the small save's record opened and plan registered
    assert build_relay(stream_settings, stream_app, batch_size=16).run(
        until_caught_up=True) == len(stored)

    topics, kafka = topics_of(stream_settings), stream_settings.kafka_bootstrap
    published = {m.value() for topic in (topics.plans, topics.uploads)
                 for m in read_all(kafka, topic)}
    wire = build_wire_format(stream_settings)
    assert published == {wire.framed(REGISTRY.encode(*encode_event(
        stream_app.mapper.to_domain_event(n), n.id))) for n in stored}


def failing_file(records: int) -> bytes:
    """An LA file of `records` records whose NHS numbers all fail the check digit: every
    record's outcome in the UploadProcessed event carries a detail."""
    return re.sub(rb'(root="2\.16\.840\.1\.113883\.2\.1\.4\.1" extension=")\d+"',
                  rb'\g<1>1234567890"', synthetic_file(records))


def test_a_large_files_upload_event_over_a_megabyte_is_published(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    """Kafka's default limit is 1 MB; the uploads topic and the relay take up to 32 MiB."""
    outcome = stream_app.process_upload(parse_la_file(failing_file(MAX_RECORDS)), "BIG",
                                        SyntheticPds.load())
    assert outcome.failed == MAX_RECORDS
    build_relay(stream_settings, stream_app).run(until_caught_up=True)
    (message,) = [m for m in read_all(stream_settings.kafka_bootstrap,
                                      topics_of(stream_settings).uploads)
                  if len(m.value()) > 1_000_000]
    event, _ = decode_event(*topic_schemas().decode(message.value()))
    assert len(event.outcome.records) == MAX_RECORDS


def test_an_event_over_the_message_limit_stops_the_relay_with_a_clear_error(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    """Not retried for ever, nothing skipped: the relay stops after its last commit."""
    populate(stream_app, children=2, accesses_each=1)
    assert build_relay(stream_settings, stream_app).run(until_caught_up=True) == 8
    stream_app.process_upload(parse_la_file(failing_file(500)), "M500", SyntheticPds.load())
    relay = build_relay(stream_settings, stream_app)
    relay.config = replace(relay.config, max_message_bytes=20_000)
    with pytest.raises(MessageTooLargeError,
                       match=r"an event of [\d,]+ bytes \(key 'X26'\) to t\w+\.cpis\.uploads"
                             r"\.v1: over the 20,000 bytes .* after event-store position 8,"):
        relay.run(until_caught_up=True)
    assert read_committed_position(relay.config) == 8
    assert build_relay(stream_settings, stream_app).run(until_caught_up=True) == 2
