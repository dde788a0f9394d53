"""Every record event has an Avro schema and a codec; old bytes still decode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.model.event_id_claims import EventIdClaim
from domain.model.operator_looks import OperatorLookLog
from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import UnnumberedRefusal
from domain.model.upload_ledger import UploadLedger
from streams.avro.codec import CODECS, UnknownEventError, decode_event, encode_event
from streams.avro.schemas import DEFAULT_AVRO_DIR, AvroError, AvroSchemas
from streams.avro.values import NOTIFICATION_SCHEMA, decode_notification, encode_notification
from streams.pds_feed import SCHEMA as PDS_SCHEMA
from streams.pds_feed import decode_change, encode_change
from tests.avro_samples import (
    sample_events,
    sample_identity_change,
    sample_notification,
    system_access_event,
)

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "avro"
REGISTRY = AvroSchemas()


def event_classes(aggregate: Any) -> set[type[Any]]:
    return {
        value for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, aggregate.Event)
        and value not in (aggregate.Event, aggregate.Created)
    }


def test_every_stored_event_has_a_codec_and_a_schema() -> None:
    assert set(CODECS) == (event_classes(Record) | event_classes(UploadLedger)
                           | event_classes(EventIdClaim) | event_classes(UnnumberedRefusal)
                           | event_classes(OperatorLookLog))
    for codec in CODECS.values():
        assert codec.full_name in REGISTRY.current


def test_every_event_schema_begins_with_id_version_position_and_key() -> None:
    """The relay writes a stored event's position in after the first two fields and reads
    the key after it (streams/stored_avro.py)."""
    events = [s for s in REGISTRY.by_fingerprint.values()
              if s.full_name.startswith("uk.nhs.cpis.events.")]
    assert len(events) >= len(sample_events())
    for schema in events:
        raw = json.loads(schema.path.read_text())
        first = [(f["name"], f["type"]) for f in raw["fields"][:4]]
        assert first[0][0] in ("record_id", "ledger_id", "claim_id", "refusal_id",
                                "log_id"), \
            schema.path.name
        assert first[0][1] == {"type": "string", "logicalType": "uuid"}, schema.path.name
        assert first[1:3] == [("version", "long"), ("position", "long")], schema.path.name
        assert first[3] in (("nhs_number", "string"), ("ods_code", "string"),
                            ("sender_asid", "string")), schema.path.name


def test_every_schema_file_is_named_by_its_full_name_and_documents_every_field() -> None:
    def undocumented(schema: Any, where: str) -> list[str]:
        missing = []
        if isinstance(schema, dict):
            if schema.get("type") == "record":
                for field in schema["fields"]:
                    if not field.get("doc"):
                        missing.append(f"{where}.{field['name']}")
                    missing += undocumented(field["type"], f"{where}.{field['name']}")
        elif isinstance(schema, list):
            for branch in schema:
                missing += undocumented(branch, where)
        return missing

    for path in DEFAULT_AVRO_DIR.glob("*.avsc"):
        raw = json.loads(path.read_text())
        assert path.stem == f"{raw['namespace']}.{raw['name']}"
        assert raw.get("doc")
        assert undocumented(raw, raw["name"]) == []


@pytest.mark.parametrize("name", sorted(sample_events()))
def test_each_event_round_trips_through_avro(name: str) -> None:
    event = sample_events()[name]
    written_name, record = encode_event(event, 42)
    assert written_name == name
    decoded, position = decode_event(*REGISTRY.decode(REGISTRY.encode(written_name, record)))
    assert decoded == event
    assert position == 42


def test_system_author_round_trips() -> None:
    event = system_access_event()
    decoded, _ = decode_event(*REGISTRY.decode(REGISTRY.encode(*encode_event(event, 1))))
    assert decoded == event


def test_notification_round_trips() -> None:
    name, record = encode_notification(sample_notification(), 7)
    assert name == NOTIFICATION_SCHEMA
    _, decoded = REGISTRY.decode(REGISTRY.encode(name, record))
    assert decode_notification(decoded) == sample_notification()


def test_messages_use_single_object_encoding_with_the_schema_fingerprint() -> None:
    name, record = encode_event(sample_events()["uk.nhs.cpis.events.RecordOpened"], 1)
    data = REGISTRY.encode(name, record)
    assert data[:2] == b"\xc3\x01"
    assert REGISTRY.by_fingerprint[data[2:10]].full_name == name


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.bin")), ids=lambda p: p.name)
def test_golden_bytes_of_every_schema_version_decode_with_the_current_schema(
    golden: Path
) -> None:
    name, record = REGISTRY.decode(golden.read_bytes())
    assert golden.name.startswith(f"{name}.v")
    if name == NOTIFICATION_SCHEMA:
        assert decode_notification(record) == sample_notification()
    elif name == PDS_SCHEMA:
        assert decode_change(REGISTRY, golden.read_bytes()) == sample_identity_change()
    else:
        event, _ = decode_event(name, record)
        assert event == sample_events()[name]


def test_there_is_golden_data_for_every_current_schema() -> None:
    covered = {p.name.split(".v")[0] for p in GOLDEN.glob("*.bin")}
    assert covered == set(REGISTRY.current)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "neither Confluent's wire format .* nor Avro single-object encoding"),
        (b"{\"json\": true}", "neither Confluent's wire format"),
        (b"\x00\x00\x00", "neither Confluent's wire format"),
        (b"\x00\x00\x00\x00\x07\x02", "schema id 7 of a schema registry, and none is configured"),
        (b"\xc3\x01" + bytes(8) + b"\x00", "unknown Avro schema fingerprint 0000000000000000"),
    ],
)
def test_bad_bytes_raise_a_clear_avro_error(data: bytes, message: str) -> None:
    with pytest.raises(AvroError, match=message):
        REGISTRY.decode(data)


def test_truncated_body_raises_avro_error() -> None:
    data = REGISTRY.encode(*encode_event(sample_events()["uk.nhs.cpis.events.PlanRegistered"], 1))
    with pytest.raises(AvroError, match=r"cannot read uk\.nhs\.cpis\.events\.PlanRegistered"):
        REGISTRY.decode(data[:30])


def test_unknown_event_type_has_no_codec() -> None:
    with pytest.raises(UnknownEventError, match="no Avro codec for str"):
        encode_event("not an event", 1)


def test_identity_change_round_trips() -> None:
    change = sample_identity_change()
    assert decode_change(REGISTRY, encode_change(REGISTRY, change)) == change


def test_a_record_event_on_the_pds_feed_is_refused() -> None:
    data = REGISTRY.encode(*encode_event(sample_events()["uk.nhs.cpis.events.RecordOpened"], 1))
    with pytest.raises(AvroError, match=r"expected uk\.nhs\.cpis\.pds\.IdentityChange"):
        decode_change(REGISTRY, data)


def test_record_ids_are_read_as_text_and_each_uuid_built_once() -> None:
    event = sample_events()["uk.nhs.cpis.events.PlanRegistered"]
    data = REGISTRY.encode(*encode_event(event, 1))
    _, record = REGISTRY.decode(data)
    assert record["record_id"] == str(event.originator_id)
    first, _ = decode_event(*REGISTRY.decode(data))
    again, _ = decode_event(*REGISTRY.decode(data))
    assert first.originator_id == event.originator_id
    assert again.originator_id is first.originator_id


def test_a_nominated_person_and_a_name_use_round_trip() -> None:
    from dataclasses import replace as replaced

    from domain.model.access import Access
    from domain.model.authors import NominatedPerson, PersonName, SystemAuthor
    from tests.builders import person

    acting = SystemAuthor("200000000001", "RXX01", "Example Trust",
                          NominatedPerson("R8000", "Clinical Practitioner Access Role", "Nina",
                                          "Nominated", "Dr"))
    legal = replaced(person(), name=PersonName("Dana", "Doctor", "Dr", "L"))
    for author in (acting, legal):
        event = system_access_event()
        event = replaced(event, access=Access("ACCESS-9", event.access.accessed_at, author))
        decoded, _ = decode_event(*REGISTRY.decode(REGISTRY.encode(*encode_event(event, 1))))
        assert decoded.access.author == author
