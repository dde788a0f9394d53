"""The relay's fast path (stored JSON -> Avro) writes exactly what the domain path writes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.application import CpisApplication
from domain.plans import Plan, PlanDates, PlanType, Subject
from domain.provenance import Channel, Provenance
from domain.record import ChildProtectionRecord, record_id
from streams.avro_registry import SchemaRegistry
from streams.event_codec import encode_event
from streams.stored_avro import FAST, plan_event_record
from tests.avro_samples import AT, sample_record_events
from tests.builders import CHILD, LA_B

Record: Any = ChildProtectionRecord
REGISTRY = SchemaRegistry()
MAPPER = CpisApplication().mapper  # in-memory: only its transcoder is used


def both_paths(event: Any, position: int = 41) -> tuple[Any, Any]:
    stored = MAPPER.to_stored_event(event)
    fast = plan_event_record(stored, position)
    name, record = encode_event(event, position)
    return fast, (event.nhs_number.value, name, record)


@pytest.mark.parametrize("name", sorted(sample_record_events()))
def test_each_plan_event_gives_the_domain_paths_record_and_bytes(name: str) -> None:
    event = sample_record_events()[name]
    fast, domain = both_paths(event)
    if type(event).TOPIC not in FAST:
        assert fast is None  # accesses and identity changes: notifications need the domain
        return
    assert fast == domain
    assert REGISTRY.encode(fast[1], fast[2]) == REGISTRY.encode(domain[1], domain[2])


def test_the_fast_path_covers_record_opened_and_every_plan_event() -> None:
    assert {cls.TOPIC for cls in (Record.Opened, Record.PlanRegistered, Record.PlanUpdated,
                                  Record.PlanEnded, Record.PlanDeleted)} == set(FAST)


def test_an_upcast_event_takes_the_domain_path() -> None:
    stored = MAPPER.to_stored_event(sample_record_events()["uk.nhs.cpis.events.PlanEnded"])
    state = stored.state.replace(b'{"timestamp"', b'{"class_version":2,"timestamp"', 1)
    assert plan_event_record(type(stored)(stored.originator_id, stored.originator_version,
                                          stored.topic, state), 1) is None


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
