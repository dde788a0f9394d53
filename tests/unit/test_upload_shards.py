"""An upload prepared in shards gives what applying each record in turn gives: the same
outcome, the same events in the same order, the same records (no I/O: the shards run in
turn in this process; tests/integration/test_large_upload.py runs them in processes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application.app import CpisApplication
from domain.application.pds import PdsPort, PdsStatus, PdsUnavailableError
from domain.model.nhs_number import NhsNumber
from domain.model.record import record_id
from domain.model.uploads import FileCode, LaUpload, PlanUpload, RecordUpload, SubjectUpload
from streams.uploads.prepared import InTurn, ShardedPreparation, shard_indexes
from tests.builders import LA_A, T0, UPLOAD
from tests.builders import plan as built_plan

VERIFIED = ["9990100004", "9990100012", "9990100020", "9990100039", "9990100047"]
OTHERS = ["9990000050", "9990000042", "12345"]  # sensitive, unknown to PDS, malformed
PDS_DOWN = "9990100055"
R = TypeVar("R")


class Pds(PdsPort):
    def status(self, nhs_number: NhsNumber, birth_date: date | None) -> PdsStatus:
        if nhs_number.value == PDS_DOWN:
            raise PdsUnavailableError("PDS did not answer")
        if nhs_number.value in VERIFIED or nhs_number.value.startswith("99901"):
            return PdsStatus.VERIFIED
        return PdsStatus.SENSITIVE if nhs_number.value == "9990000050" else PdsStatus.UNKNOWN


def make_app(shards: int | None) -> CpisApplication:
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0)
    if shards:
        app.prepare_with(ShardedPreparation(InTurn(shards), app.mapper, from_records=1))
    # what was there before: two children with a plan, one of them since superseded
    for number in VERIFIED[:2]:
        app.upload_plan(NhsNumber(number), built_plan(), UPLOAD)
    app.supersede(NhsNumber(VERIFIED[1]), NhsNumber(VERIFIED[4]), UPLOAD)
    return app


@st.composite
def records(draw: st.DrawFn, numbers: list[str]) -> list[RecordUpload]:
    count = draw(st.integers(0, 12))
    found = []
    for index in range(1, count + 1):
        plans = draw(st.lists(st.tuples(
            st.sampled_from(["CPP", "LAC", "UCP", "XYZ"]), st.integers(-2, 2),
            st.sampled_from([None, 30, -30]), st.booleans()), min_size=0, max_size=2))
        sent = tuple(PlanUpload(code, datetime(2025, 1, 6, 9) + timedelta(days=shift) if start
                                else None,
                                None if end is None else datetime(2025, 1, 6) + timedelta(end))
                     for code, shift, end, start in plans)
        subject = SubjectUpload(draw(st.sampled_from(numbers)), "Amy", "Example")
        problem = draw(st.sampled_from(["", "", "", "the record could not be read"]))
        found.append(RecordUpload(index, f"/File/record[{index}]/CP-ISRecord", sent, subject,
                                  problem))
    return found


def upload_of(rows: list[RecordUpload]) -> LaUpload:
    return LaUpload(2, None, LA_A, len(rows), tuple(rows))


def log_of(app: CpisApplication) -> list[tuple[str, object, int]]:
    return [(n.topic, n.originator_id, n.originator_version)
            for n in app.recorder.select_notifications(start=1, limit=1000)]


def records_of(app: CpisApplication) -> dict[str, object]:
    found: dict[str, object] = {}
    for number in [*VERIFIED, PDS_DOWN]:
        record = app.find_record(NhsNumber(number))
        if record is not None:
            found[number] = (record.version, record.plans, record.superseded_by)
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(VERIFIED + OTHERS), st.integers(1, 5))
def test_shards_give_what_applying_each_record_in_turn_gives(
    rows: list[RecordUpload], shards: int
) -> None:
    in_turn, sharded = make_app(None), make_app(shards)
    upload = upload_of(rows)
    assert sharded.process_upload(upload, "M2", Pds()) == in_turn.process_upload(
        upload, "M2", Pds())
    assert log_of(sharded) == log_of(in_turn)
    assert records_of(sharded) == records_of(in_turn)


@settings(max_examples=50, deadline=None)
@given(records([*VERIFIED, PDS_DOWN]), st.integers(1, 3))
def test_pds_unavailable_in_any_shard_stores_no_record(rows: list[RecordUpload],
                                                       shards: int) -> None:
    in_turn, sharded = make_app(None), make_app(shards)
    upload = upload_of(rows)
    outcome = sharded.process_upload(upload, "M2", Pds())
    assert outcome == in_turn.process_upload(upload, "M2", Pds())
    assert log_of(sharded) == log_of(in_turn)
    if any(r.subject.nhs_number == PDS_DOWN and not r.problem for r in rows):
        assert outcome.file_code is FileCode.CPF05


def test_a_number_sent_twice_across_shards_is_applied_in_file_order() -> None:
    app = make_app(2)
    number = VERIFIED[3]
    first = RecordUpload(1, "/File/record[1]/CP-ISRecord", (PlanUpload(
        "CPP", datetime(2025, 1, 6, 9)),), SubjectUpload(number, "Amy", "Example"))
    second = RecordUpload(2, "/File/record[2]/CP-ISRecord", (PlanUpload(
        "CPP", datetime(2025, 2, 6, 9)),), SubjectUpload(number, "Amy", "Example"))
    outcome = app.process_upload(upload_of([first, second]), "M2", Pds())
    assert [r.code.name for r in outcome.records] == ["CPR06", "CPR06"]
    record = app.find_record(NhsNumber(number))
    assert record is not None
    assert record.version == 3  # opened, registered, then updated by the second record
    assert next(iter(record.plans.values())).dates.start == datetime(2025, 2, 6, 9)


def test_shards_cover_every_record_once_in_order() -> None:
    for count in range(0, 12):
        for shards in range(1, 5):
            indexes = [i for shard in range(shards) for i in shard_indexes(count, shard, shards)]
            assert indexes == list(range(1, count + 1))


def test_a_small_file_is_not_sharded() -> None:
    class Refusing:
        def run(self, work: Callable[[int, int], R]) -> list[R]:
            raise AssertionError("a file under from_records records was sharded")

    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: T0)
    app.prepare_with(ShardedPreparation(Refusing(), app.mapper, from_records=3))
    rows = [RecordUpload(i, f"/File/record[{i}]/CP-ISRecord", (PlanUpload(
        "CPP", datetime(2025, 1, 6, 9)),), SubjectUpload(VERIFIED[i], "Amy", "Example"))
        for i in (1, 2)]
    assert app.process_upload(upload_of(rows), "M1", Pds()).file_code is FileCode.CPF02
    assert app.find_record(NhsNumber(VERIFIED[1])) is not None
    assert record_id(NhsNumber(VERIFIED[2])) in app.known_records()
