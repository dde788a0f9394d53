"""One contract for the view port: in-memory and PostgreSQL views behave the same."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import pytest

from adapters.views.memory import InMemoryViews
from adapters.views.postgres import PostgresViewStore
from adapters.views.postgres_views import PostgresViews
from domain.application.projections import Views
from domain.model.plans import PlanType
from streams.settings import PostgresSettings
from tests.avro_samples import sample_notification
from tests.builders import CHILD, LA_B, access, person, plan, system
from tests.services import fresh_schema


@pytest.fixture(params=["memory", pytest.param(
    "postgres", marks=[pytest.mark.postgres, pytest.mark.services])])
def views(request: pytest.FixtureRequest) -> Iterator[Views]:
    if request.param == "memory":
        yield InMemoryViews()
        return
    server: PostgresSettings = request.getfixturevalue("postgres")
    with fresh_schema(server, "contract") as schema:
        store = PostgresViewStore(server.conninfo(), schema)
        generation = store.setup()
        with store.connect() as conn:
            yield PostgresViews(conn, schema, generation)


def test_put_plan_then_put_again_replaces_it(views: Views) -> None:
    views.put_plan(CHILD, plan(), 2, 1)
    views.put_plan(CHILD, plan(end=datetime(2026, 1, 1, 9, 0)), 3, 7)
    rows = views.plans()
    assert [(r.nhs_number, r.version, r.source_file) for r in rows] == [(CHILD.value, 3, 7)]
    assert rows[0].plan == plan(end=datetime(2026, 1, 1, 9, 0))


def test_plans_of_two_local_authorities_are_two_rows(views: Views) -> None:
    views.put_plan(CHILD, plan(), 2, 1)
    views.put_plan(CHILD, plan(la=LA_B), 3, None)
    assert [r.plan.local_authority.ods_code for r in views.plans()] == ["X26", "X27"]


def test_end_and_delete_dates_are_set_on_the_plan(views: Views) -> None:
    views.put_plan(CHILD, plan(), 2, 1)
    views.end_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2026, 1, 1, 9, 0), 3)
    views.delete_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2026, 2, 1), 4)
    [row] = views.plans()
    assert (row.plan.dates.end, row.plan.dates.delete, row.version) == (
        datetime(2026, 1, 1, 9, 0), datetime(2026, 2, 1), 4)


def test_ending_an_unknown_plan_changes_nothing(views: Views) -> None:
    views.end_plan(CHILD, "X26", PlanType.LOOKED_AFTER_CHILD, datetime(2026, 1, 1), 3)
    assert views.plans() == []


def test_access_history_keeps_the_newest_and_ignores_repeats(views: Views) -> None:
    for minute in range(5):
        views.add_access(CHILD, access(minute, person(str(minute))), keep=3)
    views.add_access(CHILD, access(4, person("4")), keep=3)
    views.add_access(CHILD, access(9, system()), keep=3)
    assert [r.access for r in views.accesses()] == [
        access(9, system()), access(4, person("4")), access(3, person("3"))]


def test_a_notification_is_queued_once_as_pending(views: Views) -> None:
    views.add_notification(sample_notification())
    views.add_notification(sample_notification())
    other = replace(sample_notification(), notification_id="other", ods_code="X27")
    views.add_notification(other)
    rows = views.notifications()
    assert [(r.notification.notification_id, r.status) for r in rows] == [
        (sample_notification().notification_id, "pending"), ("other", "pending")]
    assert rows[0].notification == sample_notification()


def test_views_do_not_depend_on_the_order_topics_are_replayed_in(views: Views) -> None:
    views.put_plan(CHILD, plan(end=datetime(2026, 1, 1, 9, 0)), 5, 2)
    views.put_plan(CHILD, plan(), 3, 1)  # an older version arriving late changes nothing
    assert views.plans()[0].version == 5
    views.remove_record(CHILD)  # retired: later plans and accesses for it are ignored
    views.put_plan(CHILD, plan(la=LA_B), 6, 3)
    views.add_access(CHILD, access(1), keep=25)
    assert views.plans() == []
    assert views.accesses() == []


def test_a_change_at_a_version_already_applied_changes_nothing(views: Views) -> None:
    views.put_plan(CHILD, plan(), 3, 1)
    views.put_plan(CHILD, plan(end=datetime(2026, 1, 1, 9, 0)), 3, 2)
    views.end_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2026, 2, 1), 3)
    [row] = views.plans()
    assert (row.plan, row.source_file) == (plan(), 1)
