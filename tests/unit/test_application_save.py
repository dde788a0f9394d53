"""The application's own save (the library's, without its per-object Protocol checks)."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import RecordConflictError, StoredEvent

from domain.application.app import CpisApplication, ThenMapped
from domain.model.record import ChildProtectionRecord, record_id
from tests.builders import CHILD, OTHER_CHILD, T0, UPLOAD, plan


def make_app() -> CpisApplication:
    return CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0)


def test_save_stores_every_pending_event_of_each_aggregate_and_skips_none() -> None:
    app = make_app()
    first, second = ChildProtectionRecord(nhs_number=CHILD), ChildProtectionRecord(
        nhs_number=OTHER_CHILD)
    first.register_plan(plan(), UPLOAD, T0)
    recordings = app.save(first, None, second)
    assert [(r.domain_event.originator_id, r.domain_event.originator_version)
            for r in recordings] == [(record_id(CHILD), 1), (record_id(CHILD), 2),
                                     (record_id(OTHER_CHILD), 1)]
    assert [n.id for n in app.notification_log.select(start=1, limit=10)] == [1, 2, 3]
    assert first.pending_events == []
    assert second.pending_events == []
    found = app.find_record(CHILD)
    assert found is not None
    assert len(found.plans) == 1


def test_a_save_that_conflicts_stores_none_of_its_aggregates() -> None:
    app = make_app()
    app.save(ChildProtectionRecord(nhs_number=CHILD))
    with pytest.raises(RecordConflictError):
        app.save(ChildProtectionRecord(nhs_number=OTHER_CHILD),
                 ChildProtectionRecord(nhs_number=CHILD))
    assert app.find_record(OTHER_CHILD) is None


def test_then_mapped_maps_its_later_events_only_once_reached() -> None:
    stored = [StoredEvent(record_id(CHILD), v, "t", b"x") for v in (1, 2)]
    mapped: list[int] = []

    def to_stored(version: int) -> StoredEvent:
        mapped.append(version)
        return StoredEvent(record_id(OTHER_CHILD), version, "t", b"y")

    events = ThenMapped(stored, [1, 2], to_stored)
    assert len(events) == 4
    walk = iter(events)
    assert [next(walk), next(walk)] == stored
    assert mapped == []  # not before the iteration gets there
    assert [e.originator_version for e in walk] == [1, 2]
    assert mapped == [1, 2]
    assert events[3].originator_id == record_id(OTHER_CHILD)
    assert [e.state for e in events[1:3]] == [b"x", b"y"]
    assert mapped == [1, 2]  # mapped once
