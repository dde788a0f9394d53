"""The relay's fast path: a stored Avro event, its position written in, is byte for byte
the message the domain path writes."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from fastavro import schemaless_writer
from hypothesis import given
from hypothesis import strategies as st

from adapters.event_store.event_log import LogRow
from domain.application.app import CpisApplication
from domain.model.notifications import NOTIFYING_EVENTS, notifications_due
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord, record_id
from streams.avro.codec import encode_event, message_key
from streams.avro.mapper import AvroEventMapper
from streams.avro.stored import (
    Outgoing,
    StoredMessages,
    _long,
    _read_long,
    with_position,
)
from streams.kafka.topics import Topics
from tests.avro_samples import AT, sample_events, wire_format
from tests.builders import CHILD, LA_B

Record: Any = ChildProtectionRecord
TOPICS = Topics()
WIRE = wire_format(TOPICS)
REGISTRY = WIRE.schemas
JSON_MAPPER = CpisApplication().mapper  # in-memory: only its mappers are used
MAPPER = AvroEventMapper(JSON_MAPPER, REGISTRY)
STORED = StoredMessages(REGISTRY, TOPICS.stored_topics, WIRE)


def fast_path(stored: StoredEvent, position: int) -> Outgoing | None:
    """The stored event's message by the fast path; None where it hands it to the domain."""
    handed: list[LogRow] = []

    def domain(rows: list[LogRow]) -> list[list[Outgoing]]:
        handed.extend(rows)
        return [[] for _ in rows]

    row = (position, stored.state)
    messages = STORED.messages([row], domain)
    assert len(messages) + len(handed) == 1
    return None if handed else messages[0]


def both_paths(event: Any, position: int = 41) -> tuple[Outgoing | None, Outgoing]:
    fast = fast_path(MAPPER.to_stored_event(event), position)
    name, record = encode_event(event, position)
    return fast, (TOPICS.for_event(event), WIRE.framed(REGISTRY.encode(name, record)),
                  message_key(event).encode())


@pytest.mark.parametrize("name", sorted(sample_events()))
def test_each_stored_event_gives_the_domain_paths_topic_bytes_and_key(name: str) -> None:
    event = sample_events()[name]
    fast, domain = both_paths(event)
    if isinstance(event, NOTIFYING_EVENTS):
        assert fast is None  # accesses and retired numbers: notifications need the domain
        return
    assert notifications_due(event) == []  # published as stored: it must cause none
    assert fast == domain


@pytest.mark.parametrize("position", [1, 63, 64, 8191, 8192, 2**31, 2**62])
def test_a_position_of_any_width_is_written_in(position: int) -> None:
    event = sample_events()["uk.nhs.cpis.events.PlanEnded"]
    fast, domain = both_paths(event, position)
    assert fast == domain
    assert REGISTRY.decode(domain[1])[1]["position"] == position


def test_an_event_stored_as_json_takes_the_domain_path() -> None:
    event = sample_events()["uk.nhs.cpis.events.PlanRegistered"]
    assert fast_path(JSON_MAPPER.to_stored_event(event), 1) is None


def test_an_event_of_an_unknown_schema_takes_the_domain_path() -> None:
    """There the mapper raises the clear error; the fast path does not guess a topic."""
    stored = MAPPER.to_stored_event(sample_events()["uk.nhs.cpis.events.PlanRegistered"])
    unknown = stored.state[:2] + bytes(8) + stored.state[10:]
    assert fast_path(StoredEvent(stored.originator_id, stored.originator_version,
                                 stored.topic, unknown), 1) is None


def positioned(event: Any, position: int) -> StoredEvent:
    """The event as the PostgreSQL recorder copies it: its position written in."""
    stored = MAPPER.to_stored_event(event)
    return StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                       with_position(stored.state, position))


@pytest.mark.parametrize("position", [1, 63, 64, 8191, 8192, 1_048_575, 1_048_576, 2**62])
def test_an_event_stored_with_its_position_is_published_as_it_is(position: int) -> None:
    event = sample_events()["uk.nhs.cpis.events.PlanRegistered"]
    stored = positioned(event, position)
    _, domain = both_paths(event, position)
    assert WIRE.framed(stored.state) == domain[1]
    assert fast_path(stored, position) == domain


@pytest.mark.parametrize(("held", "position"), [(5, 6), (10_000, 10_001), (10_000, 20_000),
                                                (2**40, 2**40 + 1), (9_000, 70)])
def test_a_stored_event_holding_another_position_is_refused(held: int, position: int) -> None:
    stored = positioned(sample_events()["uk.nhs.cpis.events.PlanRegistered"], held)
    with pytest.raises(ValueError, match=f"at position {position} holds position {held}$"):
        fast_path(stored, position)


def test_writing_the_position_leaves_an_event_stored_as_json_as_it_is() -> None:
    state = JSON_MAPPER.to_stored_event(sample_events()["uk.nhs.cpis.events.PlanRegistered"]).state
    assert with_position(state, 7) == state


def test_the_rows_the_domain_rebuilds_are_asked_for_together_and_kept_in_order() -> None:
    events = sample_events()
    plain = [MAPPER.to_stored_event(events[f"uk.nhs.cpis.events.{name}"])
             for name in ("PlanRegistered", "PlanEnded", "RecordOpened")]
    access = MAPPER.to_stored_event(events["uk.nhs.cpis.events.InformationAccessed"])
    json_stored = JSON_MAPPER.to_stored_event(events["uk.nhs.cpis.events.PlanUpdated"])
    order = [access, plain[0], json_stored, plain[1], plain[2], access]
    rows = [(i, s.state) for i, s in enumerate(order, start=1)]
    asked: list[list[LogRow]] = []

    def domain(handed: list[LogRow]) -> list[list[Outgoing]]:
        asked.append(handed)  # two messages for each: its own and a notification
        return [[("rebuilt", b"%d" % row[0], b"a"), ("rebuilt", b"%d" % row[0], b"b")]
                for row in handed]

    messages = STORED.messages(rows, domain)
    assert asked == [[rows[0], rows[2], rows[5]]]  # one call, the handed rows in order
    assert [(m[0], m[1]) if m[0] == "rebuilt" else REGISTRY.decode(m[1])[1]["position"]
            for m in messages] == [
        ("rebuilt", b"1"), ("rebuilt", b"1"), 2, ("rebuilt", b"3"), ("rebuilt", b"3"), 4, 5,
        ("rebuilt", b"6"), ("rebuilt", b"6")]


minutes = st.integers(0, 60 * 24 * 3650).map(lambda m: datetime(2015, 1, 1) + timedelta(minutes=m))
optional_text = st.none() | st.text(st.characters(codec="utf-8"), max_size=12)
names = st.text(min_size=1, max_size=12).filter(str.strip)  # a subject's names are not blank


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    plan_type = draw(st.sampled_from(PlanType))
    start = draw(minutes)
    end = draw(st.none() | st.just(start + timedelta(days=draw(st.integers(1, 400)))))
    if plan_type is PlanType.UNBORN_CHILD_PROTECTION_PLAN and end is None:
        end = start + timedelta(days=180)
    delete = draw(st.none() | minutes)
    subject = Subject(draw(names), draw(names), draw(st.none() | st.dates(date(1990, 1, 1))),
                      draw(optional_text))
    return Plan(plan_type, LA_B, PlanDates(start, end, delete), subject)


provenances = st.builds(Provenance, st.sampled_from(Channel), optional_text,
                        st.none() | st.integers(0, 2**40), optional_text)


@given(plan=plans(), provenance=provenances, version=st.integers(2, 10_000),
       updated=st.booleans())
def test_generated_plan_events_give_the_same_record(plan: Plan, provenance: Provenance,
                                                     version: int, updated: bool) -> None:
    cls = Record.PlanUpdated if updated else Record.PlanRegistered
    event = cls(originator_id=record_id(CHILD), originator_version=version, timestamp=AT,
                nhs_number=CHILD, plan=plan, provenance=provenance)
    fast, domain = both_paths(event, position=version * 3)
    assert fast == domain


@given(st.integers(-(2**63), 2**63 - 1))
def test_a_long_is_written_and_read_as_fastavro_does(value: int) -> None:
    out = io.BytesIO()
    schemaless_writer(out, "long", value)
    assert _long(value) == out.getvalue()
    assert _read_long(b"\x07" + out.getvalue() + b"\x01", 1) == (value, 1 + len(out.getvalue()))
