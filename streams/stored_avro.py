"""The relay's fast path: a stored Avro event (streams/avro_mapper.py) is its Kafka message,
once its event-store position is written in.

Every event schema begins with the same three fields: the record's (or ledger's) id, the
version and the position; then its Kafka key (NHS number, or ODS code for a ledger). The
stored message holds position 0, so publishing it means reading past the first two fields
and putting the position in place of that 0 - no domain event is rebuilt, nothing encoded
again. Events that cause LA notifications (accesses and retired NHS numbers) take the
domain path, which derives the notifications.

A unit test checks, for generated events of every type, that this gives the bytes the domain
path gives.
"""

from __future__ import annotations

import io

from eventsourcing.persistence import StoredEvent
from fastavro import schemaless_reader, schemaless_writer

from domain.notifications import NOTIFYING_EVENTS
from streams.avro_mapper import STORED_POSITION
from streams.avro_registry import MAGIC, SchemaRegistry

# event types that cause LA notifications: the relay rebuilds these to derive them
NOTIFYING = frozenset(cls.TOPIC for cls in NOTIFYING_EVENTS)
HEADER = len(MAGIC) + 8  # the marker and the writer schema's fingerprint


class StoredMessage:
    """Reads stored Avro events as Kafka messages: (key, Avro full name, value)."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self.registry = registry

    def __call__(self, stored: StoredEvent, position: int) -> tuple[bytes, str, bytes] | None:
        """None where the domain path must publish the event: one stored as JSON, or one
        that causes notifications. (Compressed or encrypted events never come here.)"""
        state = stored.state
        if stored.topic in NOTIFYING or not state.startswith(MAGIC):
            return None
        schema = self.registry.by_fingerprint.get(state[len(MAGIC):HEADER])
        if schema is None:
            return None  # the domain path raises the clear error
        return _key_and_value(state, position, schema.full_name)


def _key_and_value(state: bytes, position: int, full_name: str) -> tuple[bytes, str, bytes]:
    body = io.BytesIO(state)
    body.seek(HEADER)
    schemaless_reader(body, "string", None)  # record or ledger id
    schemaless_reader(body, "long", None)  # version
    start = body.tell()
    if schemaless_reader(body, "long", None) != STORED_POSITION:
        raise ValueError(f"stored {full_name} already holds a position")
    end = body.tell()
    key: str = schemaless_reader(body, "string", None)  # type: ignore[assignment]
    value = io.BytesIO()
    value.write(state[:start])
    schemaless_writer(value, "long", position)
    value.write(state[end:])
    return key.encode(), full_name, value.getvalue()
