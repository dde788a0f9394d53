"""The relay's fast path: a stored Avro event (streams/avro_mapper.py) is its Kafka message,
once its event-store position is written in.

Every event schema begins with the same three fields: the record's (or ledger's) id, the
version and the position; then its Kafka key (NHS number, or ODS code for a ledger). The
stored message holds position 0, so publishing it means reading past the first two fields
and putting the position in place of that 0 - no domain event is rebuilt, nothing encoded
again. Events that cause LA notifications (accesses and retired NHS numbers) take the
domain path, which derives the notifications.

Reading past those fields and writing the position is done here, on the bytes: an Avro long
is a zig-zag varint and a string its byte length (a long) then the bytes (Avro 1.11
specification, "Binary Encoding"). fastavro reads and writes whole values through a file
object, ~0.7 us a call: five calls an event were half the relay's reading time.

A unit test checks, for generated events of every type, that this gives the bytes the domain
path gives.
"""

from __future__ import annotations

from eventsourcing.persistence import StoredEvent

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
    at = _skip_string(state, HEADER)  # record or ledger id
    _, start = _read_long(state, at)  # version
    stored_position, end = _read_long(state, start)
    if stored_position != STORED_POSITION:
        raise ValueError(f"stored {full_name} already holds a position")
    size, at = _read_long(state, end)
    key = state[at:at + size]  # the NHS number (or ODS code) as UTF-8: the Kafka key
    return key, full_name, b"".join((state[:start], _long(position), state[end:]))


def _read_long(data: bytes, at: int) -> tuple[int, int]:
    """The zig-zag varint long at `at`, and where it ends."""
    byte = data[at]
    value, shift = byte & 0x7F, 7
    while byte & 0x80:
        at += 1
        byte = data[at]
        value |= (byte & 0x7F) << shift
        shift += 7
    return (value >> 1) ^ -(value & 1), at + 1


def _skip_string(data: bytes, at: int) -> int:
    size, at = _read_long(data, at)
    return at + size


def _long(value: int) -> bytes:
    """An Avro long: zig-zag, then seven bits a byte, lowest first."""
    n = (value << 1) ^ (value >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)
