"""The operator audit, on memory, SQLite and PostgreSQL event stores: reports follow merges
both ways, name their clock, show access ids, keep the clinicians' view apart from the full
history, refuse bad input, and carry on past an event they cannot read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import StoredEvent

from domain.application import audit, audit_reads
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.provenance import Channel, Provenance
from domain.model.record import record_id
from domain.model.refusals import Refusal, RefusalReason
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

A, B, C = synthetic_nhs_numbers(3, start=700)
PDS_FEED = Provenance(Channel.PDS, message_id="PDS-FEED-7")


def hl7(message_id: str) -> Provenance:
    return Provenance(Channel.HL7V3, message_id, asid="200000000001")


def ask(app: CpisApplication, nhs: object, who: object, minutes: float, access_id: str,
        silent: bool = False) -> object:
    return asked(app, QueryRequest(nhs, who, T0 + timedelta(minutes=minutes),  # type: ignore[arg-type]
                                   access_id, hl7(f"M-{access_id}"), silent))


def merged_a_into_b(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    ask(app, A, person("1"), 0, "QA")
    app.upload_plan(B, plan(la=LA_B), UPLOAD)
    app.merge(A, B, PDS_FEED)


@pytest.mark.parametrize("asked_for", [A, B], ids=["old-number", "new-number"])
def test_history_follows_a_merge_both_ways_with_who_when_message_file_and_access_id(
    app: CpisApplication, asked_for: object,
) -> None:
    merged_a_into_b(app)
    entries = audit.full_history(app, asked_for)  # type: ignore[arg-type]
    assert {e.nhs_number for e in entries} == {A.value, B.value}
    assert [e.event for e in entries if e.nhs_number == A.value] == [
        "RecordOpened", "PlanRegistered", "InformationAccessed", "NhsNumberSuperseded"]
    accessed = next(e for e in entries if e.event == "InformationAccessed")
    assert (accessed.channel, accessed.message_id, accessed.asid, accessed.access_id) == (
        "hl7v3", "M-QA", "200000000001", "QA")
    assert "Dr Dana Doctor" in accessed.summary
    registered = next(e for e in entries if e.event == "PlanRegistered")
    assert (registered.message_id, registered.file_sequence) == ("MSG-1", 1)
    merged = next(e for e in entries if e.event == "RecordMergedIn")
    assert "1 plan taken" in merged.summary
    stored = [e.recorded_at for e in entries if e.recorded_at is not None]
    assert stored == sorted(stored)
    assert len(stored) == len(entries)


def test_the_event_names_are_the_published_ones(app: CpisApplication) -> None:
    merged_a_into_b(app)
    named = {e.event for e in audit.full_history(app, B)}
    assert named == {"RecordOpened", "PlanRegistered", "InformationAccessed",
                     "NhsNumberSuperseded", "RecordMergedIn"}


def test_a_number_cp_is_never_held_is_an_error_not_an_empty_report(app: CpisApplication
                                                                    ) -> None:
    with pytest.raises(audit.AuditError, match=f"holds no record for NHS number {C}"):
        audit.full_history(app, C)


def test_a_query_made_on_the_old_number_is_found_from_the_new_one_in_any_case(
    app: CpisApplication,
) -> None:
    merged_a_into_b(app)
    given = audit.query_given(app, B, "qa")
    assert given is not None
    assert (given.access_id, given.nhs_number, given.outcome) == ("QA", A.value, "access")
    assert given.by == "Dr Dana Doctor (Clinical Practitioner Access Role, Example General " \
        "Hospital ED)"
    assert given.answer is not None
    assert [a.access_id for a in given.answer.history] == ["QA"]


def test_a_repeat_view_hidden_from_clinicians_is_listed_and_rebuilt(app: CpisApplication
                                                                     ) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    ask(app, A, person("1"), 0, "FIRST")
    shown = ask(app, A, person("1"), 30, "REPEAT")  # within 24 hours: collapsed
    assert [a.access_id for a in shown.history] == ["FIRST"]  # type: ignore[attr-defined]
    listed = [e.access_id for e in audit.full_history(app, A) if e.access_id]
    assert listed == ["FIRST", "REPEAT"]
    repeat = audit.query_given(app, A, "REPEAT")
    assert repeat is not None
    assert repeat.answer == shown


def test_silent_reads_no_records_and_refusals_are_in_the_history_and_can_be_looked_up(
    app: CpisApplication,
) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    ask(app, A, person("9", "A99001"), 0, "SILENT", silent=True)
    app.record_refusal(A.value, Refusal(RefusalReason.NOT_AUTHORISED, "job role R9 may not "
                                        "query", T0, "REFUSED", person("7")), hl7("M-R"))
    with pytest.raises(Exception, match="No Records Found"):
        ask(app, B, person("1"), 1, "NOTHING")
    events = [e.event for e in audit.full_history(app, A)]
    assert "InformationReadSilently" in events
    assert "QueryRefused" in events
    assert audit.query_given(app, A, "SILENT").outcome == "silent read"  # type: ignore[union-attr]
    refused = audit.query_given(app, A, "refused")
    assert refused is not None
    assert (refused.outcome, refused.answer) == ("refused: not authorised", None)
    nothing = audit.query_given(app, B, "NOTHING")
    assert nothing is not None
    assert nothing.outcome == "no records"


def test_the_record_at_a_past_moment_matches_what_a_query_then_returned(
    store_settings: Settings,
) -> None:
    app = build_application(store_settings)  # the real clock: recorded times are real
    try:
        app.upload_plan(A, plan(), UPLOAD)
        answered = app.query(QueryRequest(A, person("1"), datetime.now(UTC), "Q1", hl7("M1")))
        app.query(QueryRequest(A, person("1"), datetime.now(UTC), "Q2", hl7("M2")))
        moment = datetime.now(UTC)
        app.end_plan(A, "X26", plan().plan_type, datetime(2026, 2, 1, 9, 0), UPLOAD)
        app.upload_plan(A, plan(la=LA_B), UPLOAD)
        then = audit.record_at(app, A, moment)
        assert then is not None
        assert then.plans == answered.plans
        assert then.clinicians_view == answered.history  # Q2 repeats Q1: shown once
        assert then.accesses_recorded == 2
        assert then.status == "active"
        held_now = audit.record_at(app, A, datetime.now(UTC))
        assert held_now is not None
        assert len(held_now.plans) == 2
        assert audit.record_at(app, A, moment - timedelta(days=365)) is None
    finally:
        app.close()


def test_the_record_at_a_moment_after_a_merge_follows_it_to_the_new_number(
    store_settings: Settings,
) -> None:
    app = build_application(store_settings)
    try:
        app.upload_plan(A, plan(), UPLOAD)
        app.upload_plan(B, plan(la=LA_B), UPLOAD)
        app.merge(A, B, PDS_FEED)
        held = audit.record_at(app, A, datetime.now(UTC))
        assert held is not None
        assert held.status == f"superseded by {B}"
        assert held.followed is not None
        assert held.followed.nhs_number == B.value
        assert held.followed.merged_in == (A.value,)
        assert len(held.followed.plans) == 2
    finally:
        app.close()


def test_reads_by_organisation_over_a_period_by_either_clock(app: CpisApplication) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    app.upload_plan(B, plan(), UPLOAD)
    for minutes, who, nhs, silent in (
            (0, person("1", "RXX01"), A, False), (10, person("2", "RXX01"), B, False),
            (20, person("3", "RYY02"), A, False), (30, person("5", "A99001"), A, True),
            (60 * 48, person("4"), A, False)):
        ask(app, nhs, who, minutes, f"{nhs}{minutes}", silent)
    rows = audit_reads.reads_by_organisation(app, T0, T0 + timedelta(days=1)).rows
    assert [(r.ods_code, r.accesses, r.silent_reads, r.nhs_numbers) for r in rows] == [
        ("RXX01", 2, 0, 2), ("RYY02", 1, 0, 1), ("A99001", 0, 1, 1)]
    only = audit_reads.reads_by_organisation(app, T0, T0 + timedelta(days=3), "rxx01").rows
    assert [(r.ods_code, r.accesses) for r in only] == [("RXX01", 3)]
    # by the recorded clock (the store's real time), nothing was stored on 2026-11-01
    by_storage = audit_reads.reads_by_organisation(app, T0, T0 + timedelta(days=1), clock=(
        audit.Clock.RECORDED)).rows
    assert by_storage == [] or T0.date() == datetime.now(UTC).date()
    # the period's end is not included
    edge = audit_reads.reads_by_organisation(app, T0 + timedelta(minutes=10),
                                       T0 + timedelta(minutes=20)).rows
    assert [(r.ods_code, r.accesses) for r in edge] == [("RXX01", 1)]


def test_an_empty_or_backward_period_is_refused(app: CpisApplication) -> None:
    with pytest.raises(audit.AuditError, match="the period is empty"):
        audit_reads.reads_by_organisation(app, T0, T0)
    with pytest.raises(audit.AuditError, match="is not before"):
        audit_reads.reads_by_organisation(app, T0 + timedelta(days=1), T0)


def test_an_event_that_cannot_be_read_is_reported_and_the_rest_goes_on(
    app: CpisApplication,
) -> None:
    app.upload_plan(A, plan(), UPLOAD)
    ask(app, A, system(), 0, "Q1")
    app.recorder.insert_events([StoredEvent(record_id(A), 4, "cpis:InformationAccessed.v1",
                                            b"\xc3\x01 written by another build")])
    entries = audit.full_history(app, A)
    assert [e.summary.startswith("cannot be read") for e in entries][-1]
    assert entries[-1].version == 4
    held = audit.record_at(app, A, datetime.now(UTC) + timedelta(days=1))
    assert held is not None
    assert held.version == 3
    assert held.unreadable_after[0].startswith("v4 (InformationAccessed): ")
    report = audit_reads.reads_by_organisation(app, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert [(r.ods_code, r.accesses) for r in report.rows] == [("RXX01", 1)]
    assert len(report.unreadable) == 1
