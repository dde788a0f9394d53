"""Topic messages in Confluent's wire format: the stored body behind a 5-byte header naming
the registry id, read back by id; the older single-object messages still read."""

from __future__ import annotations

import io
import json

import fastavro
import pytest

from streams.avro.codec import decode_event, encode_event
from streams.avro.schemas import AvroError, AvroSchemas
from streams.avro.subjects import compact_text
from streams.avro.wire import WireFormat
from streams.kafka.topics import Topics
from tests.avro_samples import NumberedIds, sample_events

TOPICS = Topics("t.")
PLAN = "uk.nhs.cpis.events.PlanRegistered"


def wire_and_ids() -> tuple[WireFormat, NumberedIds]:
    ids = NumberedIds()
    return WireFormat(AvroSchemas(registry=ids), TOPICS, ids), ids


def test_a_message_is_byte_0_the_id_big_endian_then_the_stored_body() -> None:
    wire, ids = wire_and_ids()
    ids.ids[(f"{TOPICS.plans}-{PLAN}", compact_text(wire.schemas.current[PLAN].path))] = 258
    stored = wire.schemas.encode(*encode_event(sample_events()[PLAN], 9))
    framed = wire.framed(stored)
    assert framed[:5] == b"\x00\x00\x00\x01\x02"
    assert framed[5:] == stored[10:]


def test_the_id_is_looked_up_under_the_topic_and_record_subject_once() -> None:
    wire, ids = wire_and_ids()
    for position in (1, 2, 3):
        wire.framed(wire.schemas.encode(*encode_event(sample_events()[PLAN], position)))
    assert [subject for subject, _ in ids.ids] == [f"{TOPICS.plans}-{PLAN}"]


@pytest.mark.parametrize("name", sorted(sample_events()))
def test_every_event_reads_back_from_the_wire_by_its_id(name: str) -> None:
    wire, _ = wire_and_ids()
    reader = AvroSchemas(registry=wire.ids)  # a fresh reader: ids it has never seen
    framed = wire.framed(wire.schemas.encode(*encode_event(sample_events()[name], 5)))
    assert decode_event(*reader.decode(framed)) == (sample_events()[name], 5)


def test_single_object_messages_written_before_stay_readable() -> None:
    wire, _ = wire_and_ids()
    stored = wire.schemas.encode(*encode_event(sample_events()[PLAN], 5))
    assert decode_event(*wire.schemas.decode(stored)) == (sample_events()[PLAN], 5)


def test_an_id_the_registry_does_not_have_is_a_clear_error() -> None:
    with pytest.raises(AvroError, match="unknown schema id 4242: the schema registry has none"):
        AvroSchemas(registry=NumberedIds()).decode(b"\x00" + (4242).to_bytes(4, "big") + b"\x02")


def test_a_writer_schema_known_only_to_the_registry_is_read_into_the_current_one() -> None:
    """A producer of a newer build registered a version this build's avro/ lacks: read by
    Avro's resolution, its extra field dropped."""
    ids = NumberedIds()
    current = json.loads(compact_text(AvroSchemas().current[PLAN].path))
    newer = {**current, "fields": [*current["fields"],
                                   {"name": "extra", "type": "string", "default": ""}]}
    schema_id = ids.id_of(f"{TOPICS.plans}-{PLAN}", json.dumps(newer))
    _, record = encode_event(sample_events()[PLAN], 3)
    body = _body(newer, {**record, "extra": "from a newer build"})
    read = AvroSchemas(registry=ids).decode(b"\x00" + schema_id.to_bytes(4, "big") + body)
    assert decode_event(*read) == (sample_events()[PLAN], 3)


def _body(schema: dict[str, object], record: dict[str, object]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return out.getvalue()


def test_prefetch_looks_up_every_current_schema_before_any_message() -> None:
    wire, ids = wire_and_ids()
    wire.prefetch()
    assert {subject.rsplit("-", 1)[1] for subject, _ in ids.ids} == set(wire.schemas.current)
