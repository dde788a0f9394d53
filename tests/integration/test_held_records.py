"""A query takes the record as its process last held it, and the save checks that no other
process saved since (domain/application.py, `_change`): two applications on one PostgreSQL
event store, each with its own cache, stand for two `cpis serve` workers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from eventsourcing.persistence import RecordConflictError

from domain.application import CpisApplication, QueryRequest
from domain.errors import NoRecordFoundError
from domain.held_records import WINDOW
from domain.plans import PlanType
from domain.provenance import Channel, Provenance
from domain.record import ChildProtectionRecord as Record
from domain.views import QueryAnswer
from streams.bootstrap import build_application
from streams.settings import PostgresSettings, Settings
from tests.builders import CHILD, T0, UPLOAD, person, plan
from tests.services import fresh_schema

pytestmark = pytest.mark.integration


def delete(app: CpisApplication) -> None:
    app.delete_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, T0, UPLOAD)


@pytest.fixture
def two_workers(postgres: PostgresSettings) -> Iterator[tuple[CpisApplication, CpisApplication]]:
    with fresh_schema(postgres, "held") as schema:
        settings = Settings(event_store="postgres", postgres=replace(postgres, schema=schema))
        first = build_application(settings, clock=lambda: T0)
        second = build_application(settings, clock=lambda: T0)
        try:
            yield first, second
        finally:
            first.close()
            second.close()


def ask(app: CpisApplication, access_id: str, silent: bool = False) -> QueryAnswer:
    """A query by a clinician of its own (so that no access hides another in the history)."""
    return app.query(QueryRequest(CHILD, person(f"5550{access_id}"), T0, access_id,
                                  Provenance(Channel.HL7V3, f"M-{access_id}", asid="1"),
                                  silent=silent))


def shown(answer: QueryAnswer) -> set[str]:
    return {access.access_id for access in answer.history}


def held_behind(workers: tuple[CpisApplication, CpisApplication]) -> CpisApplication:
    """The first worker, holding the record a version behind: its access "1", then the
    second worker's "2"."""
    first, second = workers
    first.upload_plan(CHILD, plan(), UPLOAD)
    ask(first, "1")
    ask(second, "2")
    return first


class ReadCounter:
    """Counts the reads of a record's events the application's recorder makes."""

    def __init__(self, app: CpisApplication, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads = 0
        select = app.recorder.select_events

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.reads += 1
            return select(*args, **kwargs)

        monkeypatch.setattr(app.recorder, "select_events", counted)


def test_a_held_record_is_queried_without_reading_it_first(
        two_workers: tuple[CpisApplication, CpisApplication],
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = two_workers
    first.upload_plan(CHILD, plan(), UPLOAD)
    ask(first, "1")
    counter = ReadCounter(first, monkeypatch)
    answer = ask(first, "2")
    assert counter.reads == 0
    assert shown(answer) == {"1", "2"}
    assert [e.originator_version for e in first.events.get(Record.create_id(CHILD))] == [1, 2, 3, 4]


def test_an_access_saved_by_another_process_is_answered(
        two_workers: tuple[CpisApplication, CpisApplication]) -> None:
    first = held_behind(two_workers)
    assert shown(ask(first, "3")) == {"1", "2", "3"}
    events = list(first.events.get(Record.create_id(CHILD)))
    assert [e.originator_version for e in events] == [1, 2, 3, 4, 5]
    assert sum(isinstance(e, Record.InformationAccessed) for e in events) == 3


def test_a_plan_deleted_by_another_process_is_not_answered(
        two_workers: tuple[CpisApplication, CpisApplication]) -> None:
    first, second = two_workers
    first.upload_plan(CHILD, plan(), UPLOAD)
    ask(first, "1")
    delete(second)
    with pytest.raises(NoRecordFoundError):
        ask(first, "2")
    accessed = [e for e in first.events.get(Record.create_id(CHILD))
                if isinstance(e, Record.InformationAccessed)]
    assert [e.access.access_id for e in accessed] == ["1"]


def test_a_plan_registered_by_another_process_is_answered(
        two_workers: tuple[CpisApplication, CpisApplication]) -> None:
    first, second = two_workers
    first.upload_plan(CHILD, plan(), UPLOAD)
    delete(first)
    with pytest.raises(NoRecordFoundError):
        ask(first, "1")  # first now holds the record with no current plan
    second.upload_plan(CHILD, plan(), UPLOAD)
    assert shown(ask(first, "2")) == {"2"}


def test_a_repeated_access_is_answered_from_the_stored_record(
        two_workers: tuple[CpisApplication, CpisApplication]) -> None:
    """The same access again saves nothing, so nothing would check the held record."""
    assert shown(ask(held_behind(two_workers), "1")) == {"1", "2"}


def test_a_silent_query_reads_the_stored_record(
        two_workers: tuple[CpisApplication, CpisApplication]) -> None:
    assert shown(ask(held_behind(two_workers), "3", silent=True)) == {"1", "2"}


class RefusalCounter:
    """Counts the saves the application's recorder refuses for a version saved before."""

    def __init__(self, app: CpisApplication, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refused = 0
        insert = app.recorder.insert_events

        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return insert(*args, **kwargs)
            except RecordConflictError:
                self.refused += 1
                raise

        monkeypatch.setattr(app.recorder, "insert_events", counted)


def test_held_records_mostly_out_of_date_are_seldom_taken(
        two_workers: tuple[CpisApplication, CpisApplication],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Queries alternating between two workers: each finds the record it holds a version
    behind. After a window of refused saves, a worker reads the record first."""
    first, second = two_workers
    first.upload_plan(CHILD, plan(), UPLOAD)
    counter = RefusalCounter(first, monkeypatch)
    for i in range(WINDOW):
        ask(first, f"1{i:03d}")
        ask(second, f"2{i:03d}")
    assert counter.refused >= WINDOW // 2
    counter.refused = 0
    for i in range(WINDOW):
        ask(first, f"3{i:03d}")
        ask(second, f"4{i:03d}")
    assert counter.refused <= 2  # one look a window
    answer = ask(first, "5000")
    assert {"4063", "5000"} <= shown(answer)
