"""The operator audit, on memory, SQLite and PostgreSQL event stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import audit
from domain.application import CpisApplication, QueryRequest
from domain.provenance import Channel, Provenance
from streams.bootstrap import build_application
from streams.settings import Settings
from tests.builders import (
    LA_B,
    T0,
    UPLOAD,
    asked,
    person,
    plan,
    synthetic_nhs_numbers,
    system,
)

A, B = synthetic_nhs_numbers(2, start=700)
PDS_FEED = Provenance(Channel.PDS, message_id="PDS-FEED-7")


def hl7(message_id: str) -> Provenance:
    return Provenance(Channel.HL7V3, message_id, asid="200000000001")


def test_history_spans_merges_with_who_when_message_and_file(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    app.query(QueryRequest(A, person("1"), T0, "QA", hl7("M-A")))
    app.upload_plan(B, plan(la=LA_B), UPLOAD)
    app.merge(A, B, PDS_FEED)
    entries = audit.full_history(app, B)
    assert {e.nhs_number for e in entries} == {A.value, B.value}
    assert [e.event for e in entries if e.nhs_number == A.value] == [
        "Opened", "PlanRegistered", "InformationAccessed", "NhsNumberSuperseded"]
    accessed = next(e for e in entries if e.event == "InformationAccessed")
    assert (accessed.channel, accessed.message_id, accessed.asid) == (
        "hl7v3", "M-A", "200000000001")
    assert "Dr Dana Doctor" in accessed.summary
    registered = next(e for e in entries if e.event == "PlanRegistered")
    assert (registered.message_id, registered.file_sequence) == ("MSG-1", 1)
    assert [e.recorded_at for e in entries] == sorted(e.recorded_at for e in entries)


def test_the_answer_a_query_got_is_rebuilt_exactly(store_settings: Settings) -> None:
    app = build_application(store_settings)  # the real clock, as in service
    try:
        app.upload_plan(A, plan(), UPLOAD)
        first = app.query(QueryRequest(A, person("1"), datetime.now(UTC), "Q1", hl7("M1")))
        app.upload_plan(A, plan(la=LA_B), UPLOAD)
        second = app.query(QueryRequest(A, system(), datetime.now(UTC), "Q2", hl7("M2")))
        assert audit.answer_given(app, A, "Q1") == first
        assert audit.answer_given(app, A, "Q2") == second
        assert len(first.plans) == 1
        assert len(second.plans) == 2
        assert audit.answer_given(app, A, "NOPE") is None
    finally:
        app.close()


def test_the_record_at_a_past_moment_matches_what_a_query_then_returned(
    store_settings: Settings,
) -> None:
    app = build_application(store_settings)
    try:
        app.upload_plan(A, plan(), UPLOAD)
        answered = app.query(QueryRequest(A, person("1"), datetime.now(UTC), "Q1", hl7("M1")))
        moment = datetime.now(UTC)
        app.end_plan(A, "X26", plan().plan_type, datetime(2026, 2, 1, 9, 0), UPLOAD)
        app.upload_plan(A, plan(la=LA_B), UPLOAD)
        then = audit.record_at(app, A, moment)
        assert then is not None
        assert then.plans == answered.plans
        assert then.history == answered.history
        assert then.status == "active"
        now = audit.record_at(app, A, datetime.now(UTC))
        assert now is not None
        assert len(now.plans) == 2
        assert audit.record_at(app, A, moment - timedelta(days=365)) is None
    finally:
        app.close()


def test_accesses_by_organisation_over_a_period(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    app.upload_plan(B, plan(), UPLOAD)
    for minutes, who, nhs in ((0, person("1", "RXX01"), A), (10, person("2", "RXX01"), B),
                              (20, person("3", "RYY02"), A), (60 * 48, person("4"), A)):
        asked(app, QueryRequest(nhs, who, T0 + timedelta(minutes=minutes), f"{nhs}{minutes}",
                                hl7("M")))
    rows = audit.accesses_by_organisation(app, T0, T0 + timedelta(days=1))
    assert [(r.ods_code, r.accesses, r.nhs_numbers) for r in rows] == [
        ("RXX01", 2, 2), ("RYY02", 1, 1)]
    only = audit.accesses_by_organisation(app, T0, T0 + timedelta(days=3), "RXX01")
    assert [(r.ods_code, r.accesses) for r in only] == [("RXX01", 3)]
