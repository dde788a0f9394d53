"""Local-authority upload files: reading, checking, applying, answering (no I/O)."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from adapters.mesh.file_response import file_response, unknown_local_authority
from adapters.mesh.la_file import FileRejectedError, parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application.app import CpisApplication
from domain.application.pds import PdsStatus, PdsUnavailableError
from domain.model.limits import MAX_TEXT
from domain.model.nhs_number import NhsNumber
from domain.model.plans import PlanType
from domain.model.uploads import (
    MAX_RECORDS,
    FileCode,
    RecordCode,
    UploadOutcome,
    rejected_file,
)
from tests.builders import T0
from tests.hl7 import FIXTURES as HL7_FIXTURES
from tests.hl7 import xp

FIXTURES = HL7_FIXTURES.parent / "mesh"
PDS = SyntheticPds.load()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_app() -> CpisApplication:
    return CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0)


def test_the_file_is_read_with_its_local_authority_and_records() -> None:
    upload = parse_la_file(fixture("upload_mixed.xml"))
    assert (upload.sequence, upload.declared_count, len(upload.records)) == (1, 9, 9)
    la = upload.local_authority
    assert (la.ods_code, la.office_hours_phone, la.emergency_duty_phone) == (
        "X26", "01632960001", "01632960999")
    first = upload.records[0]
    assert (first.subject.nhs_number, first.subject.local_id, first.subject.birth_date) == (
        "9998765439", "LA-001", date(2016, 3, 1))
    assert first.plans[0].plan_type_code == "CPP"
    assert upload.records[2].plans[0].plan_type_code == "UCP"


def test_each_record_gets_its_code_and_the_file_is_partial() -> None:
    outcome = make_app().process_upload(parse_la_file(fixture("upload_mixed.xml")), "M1", PDS)
    assert outcome.file_code is FileCode.CPF03
    assert [r.code.name for r in outcome.records] == [
        "CPR06", "CPR06", "CPR06", "CPR04", "CPR01", "CPR02", "CPR03", "CPR05", "CPR07"]
    assert (outcome.successful, outcome.failed) == (3, 6)
    assert outcome.records[3].location == \
        "/File/record[4]/CP-ISRecord/subject/COCT_TP145101GB01.Child"
    assert outcome.records[8].location == "/File/record[9]/CP-ISRecord/pertinentInformation[1]"
    assert "before its start" in outcome.records[8].detail


def test_valid_records_become_plans_keyed_by_child_or_mother() -> None:
    app = make_app()
    app.process_upload(parse_la_file(fixture("upload_mixed.xml")), "M1", PDS)
    [cpp] = app.current_plans(NhsNumber("9998765439"))
    assert (cpp.plan_type, cpp.local_authority.ods_code, cpp.subject.local_id) == (
        PlanType.CHILD_PROTECTION_PLAN, "X26", "LA-001")
    [ucp] = app.current_plans(NhsNumber("9990000034"))
    assert ucp.plan_type is PlanType.UNBORN_CHILD_PROTECTION_PLAN
    assert app.current_plans(NhsNumber("9990000085")) == ()


def test_the_same_mesh_message_twice_changes_nothing() -> None:
    app = make_app()
    upload = parse_la_file(fixture("upload_mixed.xml"))
    first = app.process_upload(upload, "M1", PDS)
    position = app.recorder.max_notification_id()
    assert app.process_upload(upload, "M1", PDS) == first
    assert app.recorder.max_notification_id() == position


def test_the_ledger_holds_where_an_outcome_is_stored_not_the_outcome() -> None:
    """A poller's cached ledgers would otherwise hold every record of every file an LA ever
    sent; the outcome is read back from its event when the message comes again."""
    app = make_app()
    first = app.process_upload(parse_la_file(fixture("upload_mixed.xml")), "M1", PDS)
    ledger = app.upload_ledger("X26")
    assert ledger.processed == {"M1": 2}  # v1 opened the ledger
    held = [v for value in vars(ledger).values()
            for v in (value.values() if isinstance(value, dict) else [value])]
    assert not any(isinstance(v, UploadOutcome) for v in held)
    assert app.upload_outcome("X26", "M1") == first
    assert app.upload_outcome("X26", "M2") is None
    assert app.upload_outcome("X99", "M1") is None


def test_a_sequence_number_not_greater_than_the_last_accepted_is_refused() -> None:
    app = make_app()
    upload = parse_la_file(fixture("upload_mixed.xml"))
    app.process_upload(upload, "M1", PDS)
    again = app.process_upload(upload, "M2", PDS)
    assert again.file_code is FileCode.CPF01
    assert again.detail == "file sequence number 1 is not greater than the last accepted 1"
    assert app.process_upload(parse_la_file(fixture("upload_valid.xml")), "M3",
                              PDS).file_code is FileCode.CPF02


def test_a_record_count_that_does_not_match_is_refused() -> None:
    data = fixture("upload_valid.xml").replace(b'transmissionQuantity value="1"',
                                               b'transmissionQuantity value="3"')
    outcome = make_app().process_upload(parse_la_file(data), "M1", PDS)
    assert outcome.file_code is FileCode.CPF01
    assert outcome.detail == "transmissionQuantity is 3 but the file holds 1 records"


def test_a_file_of_more_records_than_one_event_holds_is_refused_whole() -> None:
    """Its UploadProcessed event (every record's outcome) must stay one Kafka message."""
    app = make_app()
    big = synthetic_file(MAX_RECORDS + 1)
    outcome = app.process_upload(parse_la_file(big), "M1", PDS)
    assert outcome.file_code is FileCode.CPF01
    assert outcome.detail == ("the file holds 20001 records; CP-IS takes at most 20,000 a "
                              "file: send them in several files")
    stored = app.recorder.select_notifications(start=1, limit=10)
    assert [n.topic for n in stored] == ["cpis:UploadLedgerOpened.v1", "cpis:UploadProcessed.v1"]
    assert app.process_upload(parse_la_file(synthetic_file(2)), "M2", PDS
                              ).file_code is FileCode.CPF02  # its sequence was not taken


def test_a_detail_quoting_a_huge_value_is_cut_short() -> None:
    """A hostile file's 1 MB NHS number is quoted, not copied into the event and reply."""
    data = fixture("upload_valid.xml").replace(b"9990000026", b"9" * 1_000_000)
    outcome = make_app().process_upload(parse_la_file(data), "M1", PDS)
    (record,) = outcome.records
    assert record.code is RecordCode.CPR04
    assert len(record.detail) == MAX_TEXT
    assert record.detail.startswith("NHS number must be 10 digits, got '9999")
    assert record.detail.endswith("9 ...")


def test_no_valid_record_means_none_uploaded() -> None:
    data = fixture("upload_valid.xml").replace(b"9990000026", b"9990000042")
    assert make_app().process_upload(parse_la_file(data), "M1", PDS).file_code is FileCode.CPF04


def test_pds_unavailable_asks_for_resubmission_and_keeps_the_sequence_open() -> None:
    class DownPds:
        def status(self, nhs_number: NhsNumber, birth_date: date | None) -> PdsStatus:
            raise PdsUnavailableError("PDS did not answer")

    app = make_app()
    upload = parse_la_file(fixture("upload_valid.xml"))
    assert app.process_upload(upload, "M1", DownPds()).file_code is FileCode.CPF05
    assert app.current_plans(NhsNumber("9990000026")) == ()
    assert app.process_upload(upload, "M2", PDS).file_code is FileCode.CPF02


@pytest.mark.parametrize(
    ("data", "sequence", "reason"),
    [
        (b"<File", -1, "not acceptable XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><File/>', -1, "DOCTYPE"),
        (b'<File xmlns="urn:example"/>', -1, "expected a File"),
        (b'<File xmlns="urn:hl7-org:v3"><id extension="x"/></File>', -1,
         "File/id/@extension must be a whole number"),
        (b'<File xmlns="urn:hl7-org:v3"><id extension="7"/><transmissionQuantity value="1"/>'
         b"</File>", 7, "names no sending organisation"),
    ],
    ids=["malformed", "doctype", "not-a-file", "no-sequence", "no-organisation"],
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    data: bytes, sequence: int, reason: str
) -> None:
    with pytest.raises(FileRejectedError, match=reason) as caught:
        parse_la_file(data)
    assert caught.value.sequence == sequence


def test_a_bad_plan_date_fails_only_its_record() -> None:
    data = fixture("upload_mixed.xml").replace(b'<value value="202409011030"/>',
                                               b'<value value="20240901"/>')
    outcome = make_app().process_upload(parse_la_file(data), "M1", PDS)
    assert outcome.records[1].code is RecordCode.CPR07
    assert "LAC start date '20240901' is not a 12-digit YYYYMMDDHHMM date" in \
        outcome.records[1].detail
    assert outcome.records[0].code is RecordCode.CPR06


def test_file_response_carries_the_file_code_and_each_records_code_and_location() -> None:
    upload = parse_la_file(fixture("upload_mixed.xml"))
    outcome = make_app().process_upload(upload, "M1", PDS)
    response = file_response(outcome, upload.local_authority, T0)
    assert etree.QName(response).localname == "FileResponse"
    assert xp(response, "hl7:id/@extension") == ["1"]
    assert xp(response, "hl7:transmissionQuantity/@value") == ["9"]
    assert xp(response, "//hl7:acknowledgementFileDetail/hl7:code/@code") == ["CPF03"]
    assert xp(response, "//hl7:acknowledgementRecordDetail/hl7:code/@code")[3] == "CPR04"
    assert xp(response, "//hl7:acknowledgementRecordDetail/hl7:location/text()")[3] == \
        "/File/record[4]/CP-ISRecord/subject/COCT_TP145101GB01.Child"
    assert xp(response, "hl7:failedReturnedCP-ISRecords/hl7:value/@value") == ["6"]
    assert xp(response, "hl7:successfulReturnedCP-ISRecords/hl7:value/@value") == ["3"]
    assert xp(response, "hl7:communicationFunctionRcv/hl7:organisation/hl7:id/@extension") == [
        "X26"]


def test_an_unreadable_file_is_answered_cpf01_with_id_minus_one() -> None:
    response = file_response(rejected_file(-1, "not XML"), unknown_local_authority("X26"), T0)
    assert xp(response, "hl7:id/@extension") == ["-1"]
    assert xp(response, "hl7:transmissionQuantity/@value") == ["-1"]
    assert xp(response, "//hl7:acknowledgementFileDetail/hl7:code/@code") == ["CPF01"]
    # the reason, in the one detail the schema lets a file-level fault carry
    assert xp(response, "//hl7:acknowledgementRecordDetail/hl7:location/text()") == ["/File"]
    assert xp(response, "//hl7:acknowledgementRecordDetail//hl7:originalText/text()") == [
        "not XML"]
