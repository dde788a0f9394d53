"""Apply consumed messages to the views; shared by the projector and the replay.

A batch is applied as one unit of work (adapters/views/batch.py): decode every message, load
the rows of the NHS numbers it touches, run the projection handlers in memory, write the net
change with COPY. A message that cannot be decoded or applied (a poison message) goes to the
dead letters with the reason, and the stream goes on; its offset still advances. Should a
handler fail on a decoded event, the batch is applied again message by message, each in its
own savepoint, so only that message is dead-lettered.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, Protocol

from adapters.views.access_bounds import AccessBounds
from adapters.views.pg_rows import Source
from adapters.views.postgres_batch import load_batch, write_batch
from adapters.views.postgres_views import PostgresViews
from domain.application.projections import project, touches_plans
from domain.model.nhs_number import NhsNumber
from streams.avro.codec import decode_event
from streams.avro.schemas import AvroSchemas

log = logging.getLogger(__name__)
POISON = (ValueError, TypeError, KeyError)  # AvroError, UnknownEventError, DomainError too
Offsets = dict[tuple[str, int], int]


class Consumed(NamedTuple):
    """The parts of a Kafka message the views need (decoupled from confluent-kafka); a
    named tuple, as a replay makes one per message (a third the cost of a frozen
    dataclass)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class DeadLetters(Protocol):
    def send(self, message: Consumed, reason: str) -> None: ...

    def flush(self) -> None: ...


class CountingDeadLetters:
    """Dead letters for a replay: counted and logged, not sent again."""

    def __init__(self) -> None:
        self.count = 0

    def send(self, message: Consumed, reason: str) -> None:
        self.count += 1
        log.warning("skipping poison message %s[%d]@%d: %s", message.topic, message.partition,
                    message.offset, reason)

    def flush(self) -> None:
        return None


def apply_messages(views: PostgresViews, messages: list[Consumed], registry: AvroSchemas,
                   dead_letters: DeadLetters, bounds: AccessBounds | None = None) -> Offsets:
    """Apply the batch in the caller's transaction; return the next offset per partition.
    Each notification is kept with the message (topic, partition, offset) that caused it.
    `bounds`: the access rows written so far, where only this process writes the views
    (adapters/views/access_bounds.py)."""
    decoded, poison = decode_messages(messages, registry)
    events = [event for _, event in decoded]
    numbers = touched_numbers(events)
    batch = load_batch(views, numbers, touched_numbers([e for e in events if touches_plans(e)]))
    try:
        for message, event in decoded:
            batch.source = source_of(message)
            project(event, batch)
    except POISON as error:
        log.warning("batch of %d needs one-by-one application: %s", len(messages), error)
        if bounds is not None:  # its accesses are written, and trimmed, one by one
            bounds.forget(numbers)
        return apply_one_by_one(views, messages, registry, dead_letters)
    for message, reason in poison:
        dead_letters.send(message, reason)
    write_batch(views, batch, bounds)
    return next_offsets(messages)


def touched_numbers(events: list[Any]) -> set[str]:
    numbers = (getattr(event, "nhs_number", None) for event in events)
    return {n.value for n in numbers if isinstance(n, NhsNumber)}


def decode_messages(messages: list[Consumed], registry: AvroSchemas
                    ) -> tuple[list[tuple[Consumed, Any]], list[tuple[Consumed, str]]]:
    """(each message with its domain event, in order; poison messages with their reasons)."""
    decoded, poison = [], []
    for message in messages:
        try:
            decoded.append((message, decode_message(message, registry)))
        except POISON as error:
            poison.append((message, f"{type(error).__name__}: {error}"))
    return decoded, poison


def decode_message(message: Consumed, registry: AvroSchemas) -> Any:
    name, record = registry.decode(message.value or b"")
    event, _ = decode_event(name, record)
    return event


def source_of(message: Consumed) -> Source:
    """Where the notifications a message causes came from: its topic, partition, offset."""
    return message.topic, message.partition, message.offset


def next_offsets(messages: list[Consumed]) -> Offsets:
    return {(m.topic, m.partition): m.offset + 1 for m in messages}


def apply_one_by_one(views: PostgresViews, messages: list[Consumed], registry: AvroSchemas,
                     dead_letters: DeadLetters) -> Offsets:
    """Apply each message in its own savepoint, dead-lettering the ones that fail."""
    for message in messages:
        views.source = source_of(message)
        try:
            with views.conn.transaction():
                project(decode_message(message, registry), views)
        except POISON as error:
            dead_letters.send(message, f"{type(error).__name__}: {error}")
    views.source = None
    return next_offsets(messages)
