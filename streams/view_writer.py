"""Apply consumed messages to the views; shared by the projector and the replay.

A message that cannot be decoded or applied (a poison message) goes to the dead letters
with the reason, and the stream goes on; its offset still advances.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import psycopg

from domain.projections import Views, project
from streams.avro_registry import SchemaRegistry
from streams.event_codec import decode_event

log = logging.getLogger(__name__)
POISON = (ValueError, TypeError, KeyError)  # AvroError, UnknownEventError, DomainError too
Offsets = dict[tuple[str, int], int]


@dataclass(frozen=True)
class Message:
    """The parts of a Kafka message the views need (decoupled from confluent-kafka)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class DeadLetters(Protocol):
    def send(self, message: Message, reason: str) -> None: ...

    def flush(self) -> None: ...


class CountingDeadLetters:
    """Dead letters for a replay: counted and logged, not sent again."""

    def __init__(self) -> None:
        self.count = 0

    def send(self, message: Message, reason: str) -> None:
        self.count += 1
        log.warning("skipping poison message %s[%d]@%d: %s", message.topic, message.partition,
                    message.offset, reason)

    def flush(self) -> None:
        return None


def apply_messages(conn: psycopg.Connection[dict[str, object]], views: Views,
                   messages: list[Message], registry: SchemaRegistry,
                   dead_letters: DeadLetters) -> Offsets:
    """Apply each message in its own savepoint; return the next offset per partition."""
    offsets: Offsets = {}
    for message in messages:
        try:
            with conn.transaction():
                name, record = registry.decode(message.value or b"")
                event, _ = decode_event(name, record)
                project(event, views)
        except POISON as error:
            dead_letters.send(message, f"{type(error).__name__}: {error}")
        offsets[(message.topic, message.partition)] = message.offset + 1
    return offsets
