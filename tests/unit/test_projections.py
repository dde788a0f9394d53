"""Projection handlers on the embedded default: following the notification log, no Kafka."""

from __future__ import annotations

from datetime import datetime

from adapters.views.memory import InMemoryViews
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.notifications import NotificationKind
from domain.model.plans import PlanType
from domain.model.provenance import Channel, Provenance
from streams.projection.follower import NotificationLogFollower
from tests.builders import CHILD, LA_B, OTHER_CHILD, T0, UPLOAD, person, plan

HL7 = Provenance(Channel.HL7V3, "M1", asid="1")


def make_app() -> CpisApplication:
    return CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0)


def test_follower_builds_plans_history_and_notifications_from_the_log() -> None:
    app, views = make_app(), InMemoryViews()
    follower = NotificationLogFollower(app, views, batch_size=2)
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.upload_plan(CHILD, plan(PlanType.LOOKED_AFTER_CHILD, la=LA_B), UPLOAD)
    app.query(QueryRequest(CHILD, person(), T0, "Q1", HL7))
    assert follower.catch_up() == 5  # with the query's event-id claim
    assert [(r.plan.local_authority.ods_code, r.plan.plan_type.value) for r in views.plans()] == [
        ("X26", "CPP"), ("X27", "LAC")]
    assert [r.access.access_id for r in views.accesses()] == ["Q1"]
    assert [(r.notification.ods_code, r.notification.kind) for r in views.notifications()] == [
        ("X26", NotificationKind.ACCESS), ("X27", NotificationKind.ACCESS)]


def test_follower_resumes_after_its_position() -> None:
    app, views = make_app(), InMemoryViews()
    follower = NotificationLogFollower(app, views)
    app.upload_plan(CHILD, plan(), UPLOAD)
    follower.catch_up()
    app.end_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2026, 1, 1), UPLOAD)
    assert follower.catch_up() == 1
    assert follower.catch_up() == 0
    assert views.plans()[0].plan.dates.end == datetime(2026, 1, 1)


def test_silent_reads_notify_nobody() -> None:
    app, views = make_app(), InMemoryViews()
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.query(QueryRequest(CHILD, person(), T0, "Q1", HL7, silent=True))
    NotificationLogFollower(app, views).catch_up()
    assert views.accesses() == []
    assert views.notifications() == []


def test_an_inactive_number_notifies_each_local_authority_holding_a_plan() -> None:
    app, views = make_app(), InMemoryViews()
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.upload_plan(CHILD, plan(la=LA_B), UPLOAD)
    app.supersede(CHILD, OTHER_CHILD, UPLOAD)
    NotificationLogFollower(app, views).catch_up()
    notes = [r.notification for r in views.notifications()]
    assert [(n.ods_code, n.kind, n.replacement) for n in notes] == [
        ("X26", NotificationKind.INACTIVE_NHS_NUMBER, OTHER_CHILD),
        ("X27", NotificationKind.INACTIVE_NHS_NUMBER, OTHER_CHILD)]
