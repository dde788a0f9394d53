"""The relay's fast path: a stored Avro event (streams/avro/mapper.py) is its Kafka message,
its event-store position written in, its header swapped for Confluent's (streams/avro/wire.py).

Every event schema begins with the same fields: the aggregate's id, the version and the
position; then its Kafka key (NHS number, ODS code or sending ASID). An event a large save
copied into PostgreSQL holds its position already (the recorder writes it in with
`with_position` as it copies): the relay checks it is the row's and publishes the bytes as
they are. Any other holds position 0, and publishing it means putting the position in place
of that 0. Either way no domain event is rebuilt and nothing is encoded again. Events that
cause LA notifications (accesses and retired NHS numbers) take the domain path instead,
which derives the notifications.

An Avro long is a zig-zag varint and a string its byte length then the bytes (Avro
specification, "Binary Encoding"), so the fields are read and written here on the bytes,
the common layout inline in the one loop every published event goes through: a same-run
A/B without the inline reading made the relay markedly slower (docs/benchmarks.md).
A unit test checks, for generated events of every type, that this gives the bytes the
domain path gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from adapters.event_store.event_log import LogRow
from domain.model.notifications import NOTIFYING_EVENTS
from streams.avro.codec import BY_NAME
from streams.avro.mapper import STORED_POSITION
from streams.avro.schemas import HEADER, MAGIC, AvroSchemas
from streams.avro.wire import WireFormat

# the Avro events published as stored: all but those causing LA notifications, which the
# relay rebuilds to derive them
AS_STORED = frozenset(name for name, (cls, _) in BY_NAME.items()
                      if not issubclass(cls, NOTIFYING_EVENTS))
# a Kafka message as Producer.produce takes it positionally: topic, value, key
Outgoing = tuple[str, bytes, bytes]
# the messages of rows the fast path hands over: a list for each row, in their order
Domain = Callable[[list[LogRow]], list[list[Outgoing]]]


class StoredMessages:
    """Stored Avro events as Kafka messages, each on its event type's topic."""

    def __init__(self, registry: AvroSchemas, topic_of: Mapping[str, str], wire: WireFormat
                 ) -> None:
        # the header a stored message starts with -> its topic, for every schema version of
        # an event published as stored
        self.routes = {schema.header: topic_of[schema.full_name]
                       for schema in registry.by_fingerprint.values()
                       if schema.full_name in topic_of and schema.full_name in AS_STORED}
        self.wire = wire

    def messages(self, rows: Iterable[LogRow], domain: Domain) -> list[Outgoing]:
        """The rows' messages in order; `domain` gives those of the rows the fast path cannot
        publish (stored as JSON, causing notifications, or of an unknown schema: the domain
        path raises the clear error), all of them in one call, a list of messages a row."""
        out: list[Outgoing] = []
        handed: list[tuple[int, LogRow]] = []  # (where in `out` its messages go, the row)
        add, route_of, long = out.append, self.routes.get, _long
        framing, header_for = self.wire.headers.get, self.wire.header_for
        for position, state in rows:
            topic = route_of(stored := state[:HEADER])
            if topic is None:
                handed.append((len(out), (position, state)))
                continue
            # published in Confluent's wire format: its header, then the stored body
            wire = framing(stored) or header_for(stored)
            # the common cases inline: id length and version one byte each (a record id is
            # 36 characters, a version under 64), the key's length one byte
            size = state[HEADER]
            if size < 0x80 and state[at := HEADER + 1 + (size >> 1)] < 0x80:
                if state[at + 1] == STORED_POSITION:  # position 0: write it in
                    if state[at + 2] < 0x80:
                        add((topic, wire + state[HEADER:at + 1] + long(position)
                             + state[at + 2:],
                             state[at + 3:at + 3 + (state[at + 2] >> 1)]))
                        continue
                else:  # written in as stored: published as it is, once it is checked to be
                    # this row's position (three bytes inline: positions 8,192 to 1,048,575)
                    n = position << 1
                    if 0x4000 <= n < 0x200000:
                        end = at + 4
                        held = state[at + 1] == n & 0x7F | 0x80 \
                            and state[at + 2] == (n >> 7) & 0x7F | 0x80 \
                            and state[at + 3] == n >> 14
                    else:
                        written = long(position)
                        end = at + 1 + len(written)
                        held = state[at + 1:end] == written
                    if held and state[end] < 0x80:
                        add((topic, wire + state[HEADER:],
                             state[end + 1:end + 1 + (state[end] >> 1)]))
                        continue
            value, key = published(state, position)
            add((topic, wire + value[HEADER:], key))
        return _merged(out, handed, domain) if handed else out


def _merged(out: list[Outgoing], handed: list[tuple[int, LogRow]], domain: Domain
            ) -> list[Outgoing]:
    """`out` with each handed row's messages from `domain` put in its place."""
    rebuilt = domain([row for _, row in handed])
    merged: list[Outgoing] = []
    start = 0
    for (at, _), messages in zip(handed, rebuilt, strict=True):
        merged.extend(out[start:at])
        merged.extend(messages)
        start = at
    merged.extend(out[start:])
    return merged


def published(state: bytes, position: int) -> tuple[bytes, bytes]:
    """(value, key): the stored message with its position written in (as it is when it holds
    the position already), and its Kafka key."""
    at = _skip_string(state, HEADER)  # record or ledger id
    _, start = _read_long(state, at)  # version
    held, at = _read_long(state, start)
    if held not in (STORED_POSITION, position):
        raise ValueError(f"stored event at position {position} holds position {held}")
    size, key_at = _read_long(state, at)
    key = state[key_at:key_at + size]  # the NHS number (or ODS code) as UTF-8: the Kafka key
    if held == position:
        return state, key
    return state[:start] + _long(position) + state[start + 1:], key


def with_position(state: bytes, position: int) -> bytes:
    """A stored event's state with its event-store position written in: the message the
    relay publishes, byte for byte. A state that is not an Avro message (an event stored as
    JSON) is left as it is."""
    if not state.startswith(MAGIC):
        return state
    size = state[HEADER]  # the common layout inline, as in StoredMessages.messages
    if size < 0x80 and state[at := HEADER + 1 + (size >> 1)] < 0x80 \
            and state[at + 1] == STORED_POSITION:
        return state[:at + 1] + _long(position) + state[at + 2:]
    return published(state, position)[0]


def _read_long(data: bytes, at: int) -> tuple[int, int]:
    """The zig-zag varint long at `at`, and where it ends."""
    byte = data[at]
    if byte < 0x80:  # one byte: a string's length up to 63, a version up to 63
        return (byte >> 1) ^ -(byte & 1), at + 1
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
    if n < 0x200000:  # positions up to a million: three bytes at most, no loop
        if n < 0x80:
            return bytes((n,))
        if n < 0x4000:
            return bytes((n & 0x7F | 0x80, n >> 7))
        return bytes((n & 0x7F | 0x80, (n >> 7) & 0x7F | 0x80, n >> 14))
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)
