"""NHS-number merges and retirements, on memory, SQLite and PostgreSQL event stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.views.memory import InMemoryViews
from domain.application.answers import QueryAnswer
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.errors import IdentityError, NoRecordFoundError
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationKind
from domain.model.plans import PlanType
from domain.model.provenance import Channel, Provenance
from streams.projection.follower import NotificationLogFollower
from tests.builders import LA_A, LA_B, T0, UPLOAD, asked, person, plan, synthetic_nhs_numbers

A, B, C = synthetic_nhs_numbers(3, start=500)
PDS_FEED = Provenance(Channel.PDS, message_id="PDS-FEED-1")


def ask(app: CpisApplication, nhs: NhsNumber, minutes: float, who: str) -> QueryAnswer:
    answer = asked(app, QueryRequest(nhs, person(who), T0 + timedelta(minutes=minutes),
                                     f"{nhs}-{minutes}-{who}",
                                     Provenance(Channel.HL7V3, "M", asid="1")))
    assert isinstance(answer, QueryAnswer)
    return answer


def accessed(app: CpisApplication, nhs: NhsNumber) -> int:
    return [h.event_name for h in app.history(nhs)].count("InformationAccessed")


def test_a_merge_moves_plans_and_access_history_to_the_new_number(app: CpisApplication) -> None:
    app.upload_plan(A, plan(la=LA_A), UPLOAD)
    app.upload_plan(B, plan(PlanType.LOOKED_AFTER_CHILD, la=LA_B), UPLOAD)
    for i in range(20):
        ask(app, A, i, f"a{i}")
    for i in range(10):
        ask(app, B, 100 + i, f"b{i}")
    assert app.merge(A, B, PDS_FEED)
    answer = ask(app, B, 500, "after")
    assert [(p.local_authority.ods_code, p.plan_type.value) for p in answer.plans] == [
        ("X26", "CPP"), ("X27", "LAC")]
    assert len(answer.history) == 25
    assert answer.history[0].author.identity == "person:after@RXX01"
    assert [a.accessed_at for a in answer.history] == sorted(
        (a.accessed_at for a in answer.history), reverse=True)
    record = app.find_record(B)
    assert record is not None
    assert len(record.accesses) == 31  # all held: within the last 48 hours (access_log.py)


def test_the_old_number_answers_no_record(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    app.merge(A, B, PDS_FEED)
    with pytest.raises(NoRecordFoundError):
        ask(app, A, 1, "x")


def test_each_responsible_la_is_told_the_replacement_number(app: CpisApplication) -> None:
    app.upload_plan(A, plan(la=LA_A), UPLOAD)
    app.upload_plan(A, plan(la=LA_B), UPLOAD)
    app.merge(A, B, PDS_FEED)
    views = InMemoryViews()
    NotificationLogFollower(app, views).catch_up()
    notes = [r.notification for r in views.notifications()]
    assert sorted((n.ods_code, n.kind, n.nhs_number, n.replacement) for n in notes) == [
        ("X26", NotificationKind.INACTIVE_NHS_NUMBER, A, B),
        ("X27", NotificationKind.INACTIVE_NHS_NUMBER, A, B)]
    assert {r.nhs_number for r in views.plans()} == {B.value}


def test_a_merge_into_a_number_with_another_las_plan_keeps_both(app: CpisApplication) -> None:
    app.upload_plan(A, plan(la=LA_A), UPLOAD)
    app.upload_plan(B, plan(la=LA_B), UPLOAD)
    app.merge(A, B, PDS_FEED)
    assert [p.local_authority.ods_code for p in app.current_plans(B)] == ["X26", "X27"]


def test_a_chain_of_merges_ends_at_the_last_number(app: CpisApplication) -> None:
    app.upload_plan(A, plan(la=LA_A), UPLOAD)
    ask(app, A, 1, "early")
    app.merge(A, B, PDS_FEED)
    app.merge(B, C, PDS_FEED)
    assert [p.local_authority.ods_code for p in app.current_plans(C)] == ["X26"]
    assert accessed(app, A) == 1
    record = app.find_record(C)
    assert record is not None
    assert [a.access_id for a in record.accesses] == [f"{A}-1-early"]
    assert app.live_number(A) == C
    for old in (A, B):
        with pytest.raises(NoRecordFoundError):
            ask(app, old, 2, "x")


def test_a_merge_into_a_superseded_number_follows_its_chain(app: CpisApplication) -> None:
    app.upload_plan(B, plan(la=LA_B), UPLOAD)
    app.merge(B, C, PDS_FEED)
    app.upload_plan(A, plan(la=LA_A), UPLOAD)
    app.merge(A, B, PDS_FEED)
    assert [p.local_authority.ods_code for p in app.current_plans(C)] == ["X26", "X27"]


def test_a_repeated_merge_changes_nothing(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    app.merge(A, B, PDS_FEED)
    position = app.recorder.max_notification_id()
    assert app.merge(A, B, PDS_FEED)
    assert app.recorder.max_notification_id() == position


def test_a_self_merge_is_refused(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    with pytest.raises(IdentityError, match="cannot be merged into itself"):
        app.merge(A, A, PDS_FEED)


def test_a_merge_that_would_loop_is_refused(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    app.merge(A, B, PDS_FEED)
    with pytest.raises(IdentityError, match="would make a loop"):
        app.merge(B, A, PDS_FEED)


def test_changes_for_numbers_cp_is_does_not_hold_record_nothing(app: CpisApplication) -> None:
    assert not app.merge(A, B, PDS_FEED)
    assert not app.mark_inactive(A, PDS_FEED)
    assert app.find_record(A) is None
    assert app.find_record(B) is None


def test_every_merge_event_keeps_the_pds_feed_id(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    app.merge(A, B, PDS_FEED)
    assert app.history(A)[-1].provenance == "pds message PDS-FEED-1"
    assert app.history(B)[-1].provenance == "pds message PDS-FEED-1"
