"""Several processes upload and query the same NHS number at once (PostgreSQL): no update
is lost, because a save that loses the race is retried on the fresh record."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.event_store.postgres_recorder import COPY_FROM
from domain.application.queries import QueryRequest
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord as Record
from streams.avro.schemas import AvroSchemas
from streams.bootstrap import build_application
from streams.settings import PostgresSettings, Settings
from tests.builders import CHILD, LA_A, LA_B, UPLOAD, person, plan, synthetic_nhs_numbers
from tests.services import fresh_schema

WORKERS, ROUNDS = 4, 15
COPIERS, COPIES = 2, 20  # processes copying large saves, saves each


def worker(settings: Settings, number: int) -> None:
    app = build_application(settings)
    try:
        la = LA_A if number % 2 else LA_B
        for i in range(ROUNDS):
            ending = datetime(2026, 1, 1, 9, 0) + timedelta(days=number * 100 + i)
            app.upload_plan(CHILD, plan(la=la, end=ending), UPLOAD)
            app.query(QueryRequest(CHILD, person(f"w{number}"), datetime.now(UTC),
                                   f"w{number}-{i}", Provenance(Channel.HL7V3, "M", asid="1")))
    finally:
        app.close()


def test_concurrent_uploads_and_queries_lose_no_update(store_settings: Settings) -> None:
    if store_settings.event_store != "postgres":
        return  # one process owns memory; SQLite serialises writers itself
    app = build_application(store_settings)
    app.upload_plan(CHILD, plan(la=LA_A), UPLOAD)
    app.upload_plan(CHILD, plan(la=LA_B), UPLOAD)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=worker, args=(replace(store_settings), n))
                 for n in range(WORKERS)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(180)
        assert p.exitcode == 0
    events = list(app.events.get(Record.create_id(CHILD)))
    accessed = [e for e in events if isinstance(e, Record.InformationAccessed)]
    assert len(accessed) == WORKERS * ROUNDS
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    updated = [e for e in events if isinstance(e, Record.PlanUpdated)]
    assert len(updated) == WORKERS * ROUNDS  # every upload changed the plan: none was lost
    record = app.find_record(CHILD)
    assert record is not None
    for key, held in record.plans.items():
        last = [e.plan for e in updated if e.plan.key == key][-1]
        assert held == last
    app.close()


def copier(settings: Settings, number: int, start: Any) -> None:
    """Large saves, each copied with the ids it takes written into its events."""
    app = build_application(settings)
    start.wait(60)  # every process ready: their saves overlap
    try:
        for i in range(COPIES):
            first = (number * COPIES + i) * 1000
            app.save(*[Record(nhs_number=n) for n in synthetic_nhs_numbers(COPY_FROM, first)])
    finally:
        app.close()


def small_saver(settings: Settings, start: Any) -> None:
    app = build_application(settings)
    start.wait(60)
    try:
        for i in range(ROUNDS):
            end = datetime(2026, 1, 1, 9, 0) + timedelta(days=i)
            app.upload_plan(CHILD, plan(la=LA_A, end=end), UPLOAD)
    finally:
        app.close()


def run_together(settings: Settings) -> None:
    """The copiers and the small saver, started together."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(COPIERS + 1)
    processes = [context.Process(target=copier, args=(replace(settings), n, start))
                 for n in range(COPIERS)]
    processes.append(context.Process(target=small_saver, args=(replace(settings), start)))
    for p in processes:
        p.start()
    for p in processes:
        p.join(180)
        assert p.exitcode == 0


def test_concurrent_large_saves_each_hold_the_ids_they_were_copied_with(
        postgres: PostgresSettings) -> None:
    """Ids are taken from the sequence under the table's lock, so saves copied at once from
    several processes (only the PostgreSQL recorder copies), between small saves from
    another, never share an id, and each copied event holds its own (a small save's hold 0,
    written in by the relay)."""
    with fresh_schema(postgres, "copies") as schema:
        settings = Settings(event_store="postgres", postgres=replace(postgres, schema=schema))
        app = build_application(settings)  # the tables, before the processes race for them
        try:
            run_together(settings)
            stored = app.recorder.select_notifications(1, 10_000)
        finally:
            app.close()
    registry = AvroSchemas()
    held = {n.id: registry.decode(n.state)[1]["position"] for n in stored}
    assert len(held) == len(stored) == COPIERS * COPIES * COPY_FROM + 1 + ROUNDS  # no id twice
    small = {n.id for n in stored if n.originator_id == Record.create_id(CHILD)}
    assert len(small) == 1 + ROUNDS  # the record opened, then a plan event a round
    assert {i: p for i, p in held.items() if i not in small} == {
        i: i for i in held if i not in small}  # each copied event holds its own id
    assert {held[i] for i in small} == {0}
