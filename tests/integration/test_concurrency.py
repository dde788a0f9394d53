"""Several processes upload and query the same NHS number at once (PostgreSQL): no update
is lost, because a save that loses the race is retried on the fresh record."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.application import QueryRequest
from domain.provenance import Channel, Provenance
from domain.record import ChildProtectionRecord as Record
from streams.bootstrap import build_application
from streams.settings import Settings
from tests.builders import CHILD, LA_A, LA_B, UPLOAD, person, plan

WORKERS, ROUNDS = 4, 15


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
