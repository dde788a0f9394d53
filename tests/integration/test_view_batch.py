"""A batch applied as one unit of work leaves the same PostgreSQL views as applying each
change on its own (the projector's fallback path), for any mix of changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from adapters.views.access_bounds import AccessBounds
from adapters.views.batch import ViewBatch
from adapters.views.postgres import PostgresViewStore
from adapters.views.postgres_batch import load_batch, write_batch
from adapters.views.postgres_views import PostgresViews
from domain.application.projections import ViewUpdates, project
from domain.model.plans import PlanType
from streams.avro.codec import encode_event
from streams.avro.schemas import AvroSchemas
from streams.projection import writer as view_writer
from streams.projection.writer import Consumed, CountingDeadLetters, apply_messages
from streams.settings import PostgresSettings
from tests.avro_samples import sample_notification, sample_record_events
from tests.builders import CHILD, LA_A, LA_B, OTHER_CHILD, access, person, plan, system
from tests.services import fresh_schema

NUMBERS, LAS, KEEP = (CHILD, OTHER_CHILD), (LA_A, LA_B), 3
DAY = datetime(2026, 1, 1, 9, 0)
Change = tuple[Any, ...]

changes = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 1), st.integers(0, 1), st.integers(1, 8),
              st.booleans()),
    st.tuples(st.sampled_from(["end", "delete"]), st.integers(0, 1), st.integers(0, 1),
              st.integers(1, 8), st.integers(0, 5)),
    st.tuples(st.just("access"), st.integers(0, 1), st.integers(0, 6), st.booleans()),
    st.tuples(st.just("remove"), st.integers(0, 1)),
    st.tuples(st.just("notify"), st.integers(0, 3)),
)


def apply(change: Change, views: ViewUpdates) -> None:
    kind, *args = change
    if kind == "put":
        nhs, la, version, ended = args
        views.put_plan(NUMBERS[nhs], plan(la=LAS[la], end=DAY if ended else None), version, 1)
    elif kind in ("end", "delete"):
        nhs, la, version, days = args
        method = views.end_plan if kind == "end" else views.delete_plan
        method(NUMBERS[nhs], LAS[la].ods_code, PlanType.CHILD_PROTECTION_PLAN,
               DAY + timedelta(days=days), version)
    elif kind == "access":
        nhs, minute, by_system = args
        views.add_access(NUMBERS[nhs], access(minute, system() if by_system else person()), KEEP)
    elif kind == "remove":
        views.remove_record(NUMBERS[args[0]])
    else:
        views.add_notification(replace(sample_notification(), notification_id=f"n{args[0]}"))


@pytest.fixture(scope="module")
def two_generations(postgres: PostgresSettings) -> Iterator[tuple[PostgresViews, PostgresViews]]:
    with fresh_schema(postgres, "batch") as schema:
        store = PostgresViewStore(postgres.conninfo(), schema)
        store.setup()
        second = store.new_generation()
        with store.connect() as conn:
            yield PostgresViews(conn, schema, 1), PostgresViews(conn, schema, second)


def plan_numbers_of(part: list[Change]) -> list[str]:
    return [NUMBERS[change[1]].value for change in part
            if change[0] in ("put", "end", "delete", "remove")]


def snapshot(views: PostgresViews) -> tuple[Any, ...]:
    return views.plans(), views.accesses(), views.notifications()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(changes, max_size=30), st.data())
def test_a_batch_leaves_the_views_that_one_change_at_a_time_leaves(
    two_generations: tuple[PostgresViews, PostgresViews], batch: list[Change],
    data: st.DataObject,
) -> None:
    one_by_one, batched = two_generations
    split = data.draw(st.integers(0, len(batch)), label="split")
    # as a replay worker writes its new generation: with bounds on the accesses written, in
    # one bucket for all numbers or (most likely) one each
    buckets = data.draw(st.sampled_from([None, 1, 1 << 10]), label="buckets")
    bounds = None if buckets is None else AccessBounds(buckets)
    with one_by_one.conn.transaction(force_rollback=True):
        for change in batch:
            apply(change, one_by_one)
        for part in (batch[:split], batch[split:]):  # the second batch starts from stored rows
            # plan rows only of the numbers whose plans the part reads or changes
            unit = load_batch(batched, [n.value for n in NUMBERS], plan_numbers_of(part))
            for change in part:
                apply(change, unit)
            write_batch(batched, unit, bounds)
        assert snapshot(batched) == snapshot(one_by_one)


def test_a_batch_keeps_an_existing_notification_row_as_it_is(
    two_generations: tuple[PostgresViews, PostgresViews],
) -> None:
    _, views = two_generations
    with views.conn.transaction(force_rollback=True):
        views.add_notification(sample_notification())
        views.conn.execute(sql.SQL("UPDATE {} SET status = 'sent'").format(
            views.table("la_notifications")))
        unit = load_batch(views, [CHILD.value])
        unit.add_notification(sample_notification())
        write_batch(views, unit)
        assert [row.status for row in views.notifications()] == ["sent"]


def test_a_batch_applied_one_by_one_leaves_its_numbers_to_be_counted(
    two_generations: tuple[PostgresViews, PostgresViews], monkeypatch: pytest.MonkeyPatch,
) -> None:
    views, _ = two_generations
    event = sample_record_events()["uk.nhs.cpis.events.InformationAccessed"]
    registry = AvroSchemas()
    message = Consumed("accesses", 0, 0, b"key", registry.encode(*encode_event(event, 1)))

    def failing_in_a_batch(event: Any, updates: ViewUpdates) -> None:
        if isinstance(updates, ViewBatch):
            raise ValueError("fails in a batch")
        project(event, updates)

    monkeypatch.setattr(view_writer, "project", failing_in_a_batch)
    bounds, number = AccessBounds(), event.nhs_number.value
    with views.conn.transaction(force_rollback=True):
        apply_messages(views, [message], registry, CountingDeadLetters(), bounds)
        assert len(views.accesses()) == 1  # written, and trimmed, outside the batch
    assert bounds.maybe_over([number], keep=25) == [number]
