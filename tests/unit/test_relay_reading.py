"""The relay's reading side on an in-memory store (the path SQLite takes too): every stored
event's message in position order, the notifications an access causes after it."""

from __future__ import annotations

from domain.application.app import CpisApplication
from streams.avro.codec import decode_event
from streams.avro.mapper import avro_mapper
from streams.kafka.topics import Topics
from streams.relay.reading import BatchEncoder
from tests.avro_samples import wire_format
from tests.builders import T0, populate

TOPICS = Topics("t.")
WIRE = wire_format(TOPICS)
REGISTRY = WIRE.schemas


def encoder(app: CpisApplication, batch_size: int = 100) -> BatchEncoder:
    return BatchEncoder(app, WIRE, batch_size)


def test_a_batch_holds_each_event_in_order_then_the_notifications_it_causes() -> None:
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                          mapper=avro_mapper(REGISTRY), clock=lambda: T0)
    numbers = populate(app, children=2, accesses_each=1)
    batch = encoder(app).read(0)
    assert (batch.events, batch.last_position) == (8, 8)  # each access claims its event id
    topics = [topic for topic, _, _ in batch.messages]
    assert topics == [TOPICS.plans, TOPICS.plans, TOPICS.accesses, TOPICS.la_notifications,
                      TOPICS.query_audit] * 2
    assert [key for _, _, key in batch.messages] == [
        nhs.value.encode() for nhs in numbers for _ in range(5)]
    positions = [decode_event(*REGISTRY.decode(v))[1] for t, v, _ in batch.messages
                 if t != TOPICS.la_notifications]
    assert positions == [1, 2, 3, 4, 5, 6, 7, 8]


def test_batches_follow_one_another_from_a_position() -> None:
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                          mapper=avro_mapper(REGISTRY), clock=lambda: T0)
    populate(app, children=2, accesses_each=1)
    first = encoder(app, batch_size=4).read(0)
    second = encoder(app, batch_size=4).read(first.last_position)
    third = encoder(app, batch_size=4).read(second.last_position)
    assert [(b.events, b.last_position) for b in (first, second, third)] == [
        (4, 4), (4, 8), (0, 8)]
