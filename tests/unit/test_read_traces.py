"""Every read of a record leaves an event: an access, a silent read, a "no records" answer or
a refusal. Only accesses show in the history and notify local authorities."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.errors import NoRecordFoundError, QueryRefusedError
from domain.model.notifications import notifications_due
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import Refusal, RefusalReason, UnnumberedRefusal
from tests.builders import CHILD, OTHER_CHILD, T0, UPLOAD, person, plan, system

HL7 = Provenance(Channel.HL7V3, "M1", asid="200000000001")


def app_with_plan() -> CpisApplication:
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0)
    app.upload_plan(CHILD, plan(), UPLOAD)
    return app


def ask(app: CpisApplication, event_id: str = "Q1", nhs: Any = CHILD, author: Any = None,
        silent: bool = False, at: Any = T0) -> Any:
    return app.query(QueryRequest(nhs, author or person(), at, event_id, HL7, silent))


def events_of(app: CpisApplication, nhs: Any = CHILD) -> list[Any]:
    record = app.find_record(nhs)
    assert record is not None
    return list(app.events.get(record.id))


def reads(app: CpisApplication, nhs: Any = CHILD) -> list[str]:
    return [type(e).__name__ for e in events_of(app, nhs)
            if not isinstance(e, Record.Opened | Record.PlanRegistered)]


def test_an_unscheduled_query_records_one_access_shown_and_notified() -> None:
    app = app_with_plan()
    answer = ask(app)
    assert [a.access_id for a in answer.history] == ["Q1"]
    assert reads(app) == ["InformationAccessed"]
    assert [n.ods_code for n in notifications_due(events_of(app)[-1])] == ["X26"]


def test_a_silent_read_is_recorded_but_neither_shown_nor_notified() -> None:
    app = app_with_plan()
    answer = ask(app, silent=True)
    assert answer.history == ()
    assert reads(app) == ["InformationReadSilently"]
    assert notifications_due(events_of(app)[-1]) == []
    assert ask(app, "Q2").history[0].access_id == "Q2"  # the silent read stays hidden


def test_a_no_records_answer_is_recorded_even_for_a_number_cp_is_never_held() -> None:
    app = app_with_plan()
    with pytest.raises(NoRecordFoundError):
        ask(app, nhs=OTHER_CHILD)
    assert reads(app, OTHER_CHILD) == ["NoRecordsFoundAnswered"]
    assert app.current_plans(OTHER_CHILD) == ()


def test_the_same_query_resent_is_answered_again_and_recorded_once() -> None:
    app = app_with_plan()
    first = ask(app)
    again = ask(app)
    assert again == first
    assert reads(app) == ["InformationAccessed"]


@pytest.mark.parametrize(
    ("nhs", "author"),
    [(CHILD, person("555000000009")), (CHILD, person(ods="RYY02")), (CHILD, system()),
     (OTHER_CHILD, person())],
    ids=["another-clinician", "another-organisation", "a-system", "another-child"])
def test_an_event_id_reused_by_another_query_is_refused_and_recorded(nhs: Any,
                                                                     author: Any) -> None:
    app = app_with_plan()
    app.upload_plan(OTHER_CHILD, plan(), UPLOAD)
    ask(app)
    with pytest.raises(QueryRefusedError, match="already used for another query") as refused:
        ask(app, nhs=nhs, author=author)
    assert refused.value.reason == RefusalReason.EVENT_ID_REUSED.value
    [event] = [e for e in events_of(app, nhs) if isinstance(e, Record.QueryRefused)]
    assert event.refusal.reason is RefusalReason.EVENT_ID_REUSED
    assert event.refusal.author == author
    assert [a.access_id for a in app.find_record(CHILD).access_history()] == ["Q1"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "at", [T0 + timedelta(minutes=6), T0 - timedelta(hours=25)], ids=["future", "too-old"])
def test_an_access_time_outside_its_window_is_refused_and_recorded(at: Any) -> None:
    app = app_with_plan()
    with pytest.raises(QueryRefusedError, match="access time"):
        ask(app, at=at)
    assert reads(app) == ["QueryRefused"]
    assert app.find_record(CHILD).access_history() == []  # type: ignore[union-attr]


def test_an_access_time_within_the_clock_skew_is_taken() -> None:
    app = app_with_plan()
    assert ask(app, at=T0 + timedelta(minutes=4, seconds=59)).history


def test_a_number_never_issued_is_refused_and_recorded_without_a_record() -> None:
    app = app_with_plan()
    never_issued = type(CHILD)("0000000000")
    with pytest.raises(QueryRefusedError, match="outside every range issued"):
        ask(app, nhs=never_issued)
    assert app.find_record(never_issued) is None
    [refusal] = unnumbered_refusals(app)
    assert refusal.nhs_number_sent == "0000000000"


def test_a_refusal_naming_no_valid_number_is_kept_on_its_own() -> None:
    app = app_with_plan()
    app.record_refusal("12345", Refusal(RefusalReason.MALFORMED, "bad", T0), HL7)
    [refusal] = unnumbered_refusals(app)
    assert (refusal.nhs_number_sent, refusal.refusal.detail) == ("12345", "bad")


def test_a_refusal_naming_a_valid_number_is_kept_on_its_record() -> None:
    app = app_with_plan()
    app.record_refusal(CHILD.value, Refusal(RefusalReason.NOT_AUTHORISED, "no", T0), HL7)
    assert reads(app) == ["QueryRefused"]
    assert unnumbered_refusals(app) == []


def unnumbered_refusals(app: CpisApplication) -> list[Any]:
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(
        start=1, limit=100, topics=[UnnumberedRefusal.Recorded.TOPIC])]
