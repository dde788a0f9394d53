"""Events stored as their Avro messages: every event reads back as it was, events stored as
JSON still read, and a stored state that is not what its row says is refused clearly."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent

from domain.application.app import CpisApplication
from domain.model.plans import PlanType
from domain.model.provenance import Channel, Provenance
from domain.model.record import record_id
from streams.avro.mapper import AvroEventMapper, avro_mapper
from streams.avro.schemas import MAGIC, AvroSchemas
from tests.avro_samples import sample_events, system_access_event
from tests.builders import CHILD, plan

REGISTRY = AvroSchemas()
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def json_mapper() -> Mapper[Any]:
    return CpisApplication(env=MEMORY).mapper


MAPPER = AvroEventMapper(json_mapper(), REGISTRY)


@pytest.mark.parametrize("name", sorted(sample_events()))
def test_each_event_is_stored_as_its_avro_message_and_reads_back_equal(name: str) -> None:
    event = sample_events()[name]
    stored = MAPPER.to_stored_event(event)
    assert stored.state.startswith(MAGIC)
    assert REGISTRY.decode(stored.state)[0] == name
    assert REGISTRY.decode(stored.state)[1]["position"] == 0  # the relay writes it in
    assert (stored.originator_id, stored.originator_version) == (
        event.originator_id, event.originator_version)
    assert MAPPER.to_domain_event(stored) == event


def test_a_system_authors_access_reads_back_equal() -> None:
    event = system_access_event()
    assert MAPPER.to_domain_event(MAPPER.to_stored_event(event)) == event


def test_the_avro_form_is_much_smaller_than_the_json() -> None:
    event = sample_events()["uk.nhs.cpis.events.PlanRegistered"]
    assert len(MAPPER.to_stored_event(event).state) * 3 < len(
        json_mapper().to_stored_event(event).state)


@pytest.mark.parametrize("name", sorted(sample_events()))
def test_events_stored_as_json_still_read(name: str) -> None:
    event = sample_events()[name]
    assert MAPPER.to_domain_event(json_mapper().to_stored_event(event)) == event


def test_a_compressed_store_round_trips_and_is_not_plain_avro() -> None:
    base = json_mapper()
    mapper = AvroEventMapper(Mapper(base.transcoder, compressor=ZlibCompressor()), REGISTRY)
    event = sample_events()["uk.nhs.cpis.events.InformationAccessed"]
    stored = mapper.to_stored_event(event)
    assert not mapper.stores_plain_avro
    assert not stored.state.startswith(MAGIC)
    assert mapper.to_domain_event(stored) == event


def test_a_state_of_another_event_type_is_refused() -> None:
    registered = MAPPER.to_stored_event(sample_events()["uk.nhs.cpis.events.PlanRegistered"])
    ended = MAPPER.to_stored_event(sample_events()["uk.nhs.cpis.events.PlanEnded"])
    wrong = StoredEvent(ended.originator_id, ended.originator_version, ended.topic,
                        registered.state)
    with pytest.raises(MapperDeserialisationError, match="holds an Avro PlanRegistered"):
        MAPPER.to_domain_event(wrong)


def test_a_damaged_avro_state_is_refused_clearly() -> None:
    stored = MAPPER.to_stored_event(sample_events()["uk.nhs.cpis.events.PlanRegistered"])
    damaged = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                          stored.state[:30])
    with pytest.raises(MapperDeserialisationError, match="cannot read the Avro event"):
        MAPPER.to_domain_event(damaged)


def test_an_application_built_with_it_stores_avro_and_reads_its_records() -> None:
    app = CpisApplication(env=MEMORY, mapper=avro_mapper(REGISTRY))
    upload = Provenance(Channel.MESH, "MSG-1", 1)
    app.upload_plan(CHILD, plan(), upload)
    app.end_plan(CHILD, plan().local_authority.ods_code, PlanType.CHILD_PROTECTION_PLAN,
                 plan().dates.start, upload)
    states = [n.state for n in app.recorder.select_notifications(1, 10)]
    assert len(states) == 3
    assert all(s.startswith(MAGIC) for s in states)
    read: list[Any] = list(app.events.get(record_id(CHILD)))  # from the store, not the record cache
    assert [type(e).__name__ for e in read] == ["Opened", "PlanRegistered", "PlanEnded"]
    assert read[1].plan == plan()
