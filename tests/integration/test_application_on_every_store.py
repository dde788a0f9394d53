"""The application's behaviour, run on memory, SQLite and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, RecordConflictError
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.event_store.postgres_recorder import COPY_FROM
from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application.answers import QueryAnswer
from domain.application.app import CpisApplication
from domain.application.plans import PlanChange
from domain.application.queries import QueryRequest
from domain.model.authors import Author
from domain.model.errors import (
    DomainError,
    IdentityError,
    InvalidPlanError,
    NoRecordFoundError,
    NotResponsibleError,
    PlanNotFoundError,
)
from domain.model.nhs_number import NhsNumber
from domain.model.plans import PlanType
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord
from domain.model.upload_ledger import SNAPSHOT_EVERY, UploadLedger, ledger_id
from streams.avro.schemas import AvroSchemas
from streams.avro.stored import with_position
from streams.bootstrap import build_application
from streams.settings import PostgresSettings, Settings
from tests.builders import (
    CHILD,
    LA_A,
    LA_B,
    MOTHER,
    OTHER_CHILD,
    T0,
    UPLOAD,
    person,
    plan,
    synthetic_nhs_numbers,
    system,
)
from tests.conftest import Clock
from tests.services import fresh_schema

REGISTRY = AvroSchemas()
HL7 = Provenance(Channel.HL7V3, message_id="HL7-MSG", asid="200000000001")


def query(
    app: CpisApplication, minutes: float = 0, author: Author | None = None,
    silent: bool = False, nhs: NhsNumber = CHILD, access_id: str | None = None,
) -> QueryAnswer:
    chosen = author or person()
    at = T0 + timedelta(minutes=minutes)
    if isinstance(app.clock, Clock):  # the query is made now: the clock moves on to it
        app.clock.now = max(app.clock.now, at)
    return app.query(QueryRequest(
        nhs_number=nhs, author=chosen, accessed_at=at,
        access_id=access_id or f"Q-{minutes}-{chosen.identity}", provenance=HL7, silent=silent,
    ))


def test_uploaded_plan_is_answered_with_its_local_authority_contacts(app: CpisApplication) -> None:
    assert app.upload_plan(CHILD, plan(), UPLOAD) is PlanChange.REGISTERED
    answer = query(app)
    assert [p.plan_type for p in answer.plans] == [PlanType.CHILD_PROTECTION_PLAN]
    la = answer.plans[0].local_authority
    assert (la.ods_code, la.office_hours_phone, la.emergency_duty_phone) == (
        "X26", "01632960001", "01632960999")


def test_the_same_upload_twice_changes_nothing(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    assert app.upload_plan(CHILD, plan(), UPLOAD) is PlanChange.UNCHANGED
    assert len(app.history(CHILD)) == 2  # opened + registered


def test_a_changed_upload_updates_the_plan(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    changed = plan(end=datetime(2026, 1, 1, 9, 0))
    assert app.upload_plan(CHILD, changed, UPLOAD) is PlanChange.UPDATED
    assert app.current_plans(CHILD)[0].end == datetime(2026, 1, 1, 9, 0)


def test_several_local_authorities_each_hold_a_plan_for_one_child(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(la=LA_A), UPLOAD)
    app.upload_plan(CHILD, plan(la=LA_B), UPLOAD)
    app.upload_plan(CHILD, plan(PlanType.LOOKED_AFTER_CHILD, la=LA_B), UPLOAD)
    answer = query(app)
    assert [(p.local_authority.ods_code, p.plan_type.value) for p in answer.plans] == [
        ("X26", "CPP"), ("X27", "CPP"), ("X27", "LAC")]
    assert [la.ods_code for la in answer.local_authorities] == ["X26", "X27"]


def test_only_the_responsible_local_authority_ends_its_plan(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(la=LA_A), UPLOAD)
    with pytest.raises(NotResponsibleError, match=r"X27 is not responsible .* \(held by X26\)"):
        app.end_plan(CHILD, "X27", PlanType.CHILD_PROTECTION_PLAN, datetime(2026, 1, 1), UPLOAD)
    with pytest.raises(NotResponsibleError):
        app.delete_plan(CHILD, "X27", PlanType.CHILD_PROTECTION_PLAN, T0, UPLOAD)
    assert app.current_plans(CHILD)[0].end is None


def test_ending_a_plan_that_is_not_held_is_refused(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    with pytest.raises(PlanNotFoundError, match="no LAC plan held by X26"):
        app.end_plan(CHILD, "X26", PlanType.LOOKED_AFTER_CHILD, datetime(2026, 1, 1), UPLOAD)


def test_a_plan_cannot_end_before_it_started(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(start=datetime(2025, 1, 6, 9, 0)), UPLOAD)
    with pytest.raises(InvalidPlanError, match="before its start"):
        app.end_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2025, 1, 1), UPLOAD)


def test_ended_plan_is_still_shown_with_its_end_date(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.end_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2026, 2, 1, 9, 0), UPLOAD)
    assert query(app).plans[0].end == datetime(2026, 2, 1, 9, 0)


def test_deleted_plan_is_no_longer_answered(app: CpisApplication, clock: Clock) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.delete_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, clock.now, UPLOAD)
    with pytest.raises(NoRecordFoundError, match="No Records Found for NHS number 9998765439"):
        query(app)


def test_a_future_delete_date_hides_the_plan_only_from_that_date(
    app: CpisApplication, clock: Clock
) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.delete_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, clock.now + timedelta(days=1),
                    UPLOAD)
    assert len(query(app).plans) == 1
    with pytest.raises(NoRecordFoundError):
        query(app, minutes=2 * 24 * 60)


def test_unknown_nhs_number_has_no_record(app: CpisApplication) -> None:
    with pytest.raises(NoRecordFoundError):
        query(app, nhs=OTHER_CHILD)


def test_unborn_child_plan_is_answered_by_the_mothers_nhs_number(app: CpisApplication) -> None:
    app.upload_plan(MOTHER, plan(PlanType.UNBORN_CHILD_PROTECTION_PLAN), UPLOAD)
    answer = query(app, nhs=MOTHER)
    assert answer.plans[0].plan_type is PlanType.UNBORN_CHILD_PROTECTION_PLAN
    assert answer.plans[0].end is not None


def test_every_unscheduled_query_is_recorded_and_shown(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    query(app, minutes=0, author=person("1"))
    answer = query(app, minutes=5, author=system())
    assert answer.access_recorded
    assert [a.author.identity for a in answer.history] == [
        "system:200000000001", "person:1@RXX01"]
    events = [h.event_name for h in app.history(CHILD)]
    assert events.count("InformationAccessed") == 2


def test_silent_reads_are_answered_but_not_recorded(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    query(app, minutes=0, author=person("1"))
    answer = query(app, minutes=5, author=person("2"), silent=True)
    assert not answer.access_recorded
    assert [a.author.identity for a in answer.history] == ["person:1@RXX01"]
    assert [h.event_name for h in app.history(CHILD)].count("InformationAccessed") == 1


def test_repeat_views_within_24_hours_are_recorded_but_shown_once(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    query(app, minutes=0)
    answer = query(app, minutes=60)
    assert [a.accessed_at for a in answer.history] == [T0]
    assert [h.event_name for h in app.history(CHILD)].count("InformationAccessed") == 2


def test_history_shows_at_most_25_accesses_but_keeps_all(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    for i in range(30):
        answer = query(app, minutes=i, author=person(str(i)))
    assert len(answer.history) == 25
    assert answer.history[0].author.identity == "person:29@RXX01"
    assert [h.event_name for h in app.history(CHILD)].count("InformationAccessed") == 30


def test_the_same_query_delivered_twice_is_recorded_once(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    query(app, access_id="SAME")
    query(app, minutes=1, access_id="SAME")
    assert [h.event_name for h in app.history(CHILD)].count("InformationAccessed") == 1


def test_a_superseded_number_takes_no_new_plans(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.supersede(CHILD, OTHER_CHILD, UPLOAD)
    with pytest.raises(IdentityError, match="superseded by 9990000018"):
        app.upload_plan(CHILD, plan(la=LA_B), UPLOAD)


def test_a_number_cannot_be_merged_into_itself(app: CpisApplication) -> None:
    with pytest.raises(IdentityError, match="cannot be merged into itself"):
        app.supersede(CHILD, CHILD, UPLOAD)


def test_marking_inactive_twice_records_once(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.mark_inactive(CHILD, UPLOAD)
    app.mark_inactive(CHILD, UPLOAD)
    assert [h.event_name for h in app.history(CHILD)][-1] == "NhsNumberMarkedInactive"
    assert [h.event_name for h in app.history(CHILD)].count("NhsNumberMarkedInactive") == 1


def test_registering_over_a_live_plan_is_refused(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    record = app.find_record(CHILD)
    assert isinstance(record, ChildProtectionRecord)
    with pytest.raises(DomainError, match="already has a plan CPP held by X26"):
        record.register_plan(plan(), UPLOAD, T0)


def test_the_record_as_it_stood_at_an_earlier_version(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    app.upload_plan(CHILD, replace(plan(), local_authority=LA_A), UPLOAD)
    app.end_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2026, 1, 1), UPLOAD)
    before = app.find_record(CHILD, version=2)
    assert before is not None
    assert before.current_plans(T0)[0].dates.end is None


def test_provenance_is_kept_with_each_event(app: CpisApplication) -> None:
    app.upload_plan(CHILD, plan(), UPLOAD)
    query(app)
    assert [h.provenance for h in app.history(CHILD)] == [
        "-", "mesh message MSG-1 file #1", "hl7v3 message HL7-MSG ASID 200000000001"]


@pytest.fixture
def pg_settings(postgres: PostgresSettings) -> Iterator[Settings]:
    """A PostgreSQL event store in a fresh schema."""
    with fresh_schema(postgres, "store") as schema:
        yield Settings(event_store="postgres", postgres=replace(postgres, schema=schema))


@pytest.fixture
def pg_app(pg_settings: Settings, clock: Clock) -> Iterator[CpisApplication]:
    application = build_application(pg_settings, clock=clock)
    try:
        yield application
    finally:
        application.close()


def test_a_postgres_save_holds_the_events_table_exclusively_until_it_commits(
    pg_app: CpisApplication, postgres: PostgresSettings,
) -> None:
    """So saves commit in notification-id order and the relay, tailing the log, never passes
    a notification id that a slower transaction fills in later."""
    recorder = pg_app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    event = ChildProtectionRecord(nhs_number=CHILD).collect_events()[0]
    stored = pg_app.mapper.to_stored_event(event)
    row = recorder.construct_pg_stored_event(stored.originator_id, stored.originator_version,
                                             stored.topic, stored.state)
    with psycopg.connect(postgres.conninfo()) as conn:  # one open transaction
        conn.execute(recorder.sql_invoke_pg_function_insert_events, ([row],))
        modes = {r[0] for r in conn.execute(
            "SELECT mode FROM pg_locks WHERE granted AND relation = %s::regclass",
            (f'"{recorder.datastore.schema}"."{recorder.events_table_name}"',)).fetchall()}
    assert "ExclusiveLock" in modes


def test_the_postgres_binary_read_gives_what_the_librarys_read_gives(
    pg_app: CpisApplication,
) -> None:
    for nhs_number in (CHILD, OTHER_CHILD, MOTHER):
        pg_app.upload_plan(nhs_number, plan(), UPLOAD)
    recorder = pg_app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    library = PostgresApplicationRecorder.select_notifications
    assert type(recorder).select_notifications is not library  # ours is the one in use
    for start, limit, inclusive in ((1, 10, True), (2, 3, True), (2, 3, False), (7, 5, True)):
        ours = recorder.select_notifications(start, limit, inclusive_of_start=inclusive)
        assert ours == library(recorder, start, limit, inclusive_of_start=inclusive)
    assert len(recorder.select_notifications(1, 10)) == 6
    assert all(isinstance(n.state, bytes) for n in recorder.select_notifications(1, 10))


def test_a_large_save_is_copied_and_returns_its_notification_ids_in_order(
    pg_app: CpisApplication,
) -> None:
    pg_app.upload_plan(CHILD, plan(), UPLOAD)  # two events through the library's function
    records = [ChildProtectionRecord(nhs_number=n) for n in synthetic_nhs_numbers(COPY_FROM)]
    stored = [pg_app.mapper.to_stored_event(e) for r in records for e in r.collect_events()]
    ids = pg_app.recorder.insert_events(stored)
    assert ids == list(range(3, 3 + COPY_FROM))
    read = pg_app.recorder.select_notifications(3, COPY_FROM + 10)
    assert [(n.id, n.originator_id, n.state) for n in read] == [  # each holds its own id
        (i, s.originator_id, with_position(s.state, i)) for i, s in zip(ids, stored, strict=True)]
    assert [REGISTRY.decode(n.state)[1]["position"] for n in read] == ids
    assert [pg_app.mapper.to_domain_event(n) for n in read] == [  # read back as they were
        pg_app.mapper.to_domain_event(s) for s in stored]
    with pytest.raises(IntegrityError):  # the same versions again: refused, all of them
        pg_app.recorder.insert_events([*stored[1:], stored[0]])
    assert pg_app.recorder.max_notification_id() == 2 + COPY_FROM
    # the refused COPY took ids it never used: the next one's ids start after that gap
    more = [ChildProtectionRecord(nhs_number=n)
            for n in synthetic_nhs_numbers(COPY_FROM, start=10_000)]
    stored = [pg_app.mapper.to_stored_event(e) for r in more for e in r.collect_events()]
    ids = pg_app.recorder.insert_events(stored)
    assert ids is not None
    assert ids[0] > 3 + COPY_FROM
    read = pg_app.recorder.select_notifications(3 + COPY_FROM, 2 * COPY_FROM)
    assert [(n.id, n.originator_id) for n in read] == [
        (i, s.originator_id) for i, s in zip(ids, stored, strict=True)]


def test_a_command_that_fails_leaves_nothing_behind_in_the_cached_record(
    app: CpisApplication, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Records stay in memory between commands, uncopied: an access applied to the record
    by an attempt whose save then lost a race must not linger for the retry to find."""
    app.upload_plan(CHILD, plan(), UPLOAD)
    query(app, access_id="A1")  # the record is now held in memory
    save, failures = app.save, [RecordConflictError("another writer saved first")]

    def lose_one_race(*aggregates: Any, **kwargs: Any) -> None:
        if failures:  # as a real lost race: the pending events are taken, then refused
            for aggregate in aggregates:
                aggregate.collect_events()
            raise failures.pop()
        save(*aggregates, **kwargs)

    monkeypatch.setattr(app, "save", lose_one_race)
    answer = query(app, minutes=5, access_id="A2", author=person("555000000077"))
    assert not failures
    assert [a.access_id for a in answer.history] == ["A2", "A1"]
    assert [h.event_name for h in app.history(CHILD)].count("InformationAccessed") == 2


def test_a_record_held_in_memory_sees_what_another_process_saved(
    pg_app: CpisApplication, pg_settings: Settings,
) -> None:
    first, second = pg_app, build_application(pg_settings, clock=pg_app.clock)
    try:
        first.upload_plan(CHILD, plan(), UPLOAD)
        query(first, access_id="A1")  # held in memory by `first`
        query(second, minutes=1, access_id="A2", author=system())
        second.end_plan(CHILD, "X26", PlanType.CHILD_PROTECTION_PLAN, datetime(2027, 1, 1),
                        UPLOAD)
        answer = query(first, minutes=2, access_id="A3", author=person("555000000077"))
        assert [a.access_id for a in answer.history] == ["A3", "A2", "A1"]
        assert answer.plans[0].end == datetime(2027, 1, 1)
        versions = [app.find_record(CHILD) for app in (first, second)]
        assert [r.version for r in versions if r is not None] == [6, 6]  # both current
    finally:
        second.close()


def test_a_ledger_read_again_from_its_events_finds_each_outcome(
    pg_app: CpisApplication, pg_settings: Settings,
) -> None:
    """The ledger holds each message's event version, not its outcome: a process that
    reads the ledger from its events finds the same versions and the same outcomes."""
    pds = SyntheticPds.load()
    outcomes = [pg_app.process_upload(parse_la_file(synthetic_file(3, sequence=s)), f"M{s}",
                                      pds) for s in (1, 2)]
    other = build_application(pg_settings)
    try:
        ledger = other.upload_ledger("X26")
        assert ledger.processed == pg_app.upload_ledger("X26").processed == {"M1": 2, "M2": 3}
        assert [other.upload_outcome("X26", m) for m in ("M1", "M2")] == outcomes
        again = other.process_upload(parse_la_file(synthetic_file(3, sequence=2)), "M2", pds)
        assert again == outcomes[1]
        assert other.upload_ledger("X26").version == 3  # nothing recorded again
    finally:
        other.close()


def test_a_ledger_is_loaded_from_its_latest_snapshot(
    pg_app: CpisApplication, pg_settings: Settings,
) -> None:
    """Every SNAPSHOT_EVERY ledger events a snapshot is taken, by an upload or by a
    FileResponse: a process loading the ledger reads the last one and only the events after
    it, and still finds an older message's outcome (read back from its event)."""
    assert SNAPSHOT_EVERY == 20
    pds = SyntheticPds.load()

    def upload(sequence: int) -> object:
        upload = parse_la_file(synthetic_file(2, sequence=sequence, first=3 * sequence))
        return pg_app.process_upload(upload, f"M{sequence}", pds)

    first = upload(1)  # v1 opened the ledger, v2
    for sequence in range(2, 19):  # v3-v19
        upload(sequence)
    pg_app.record_file_response("X26", "M1", "R1")  # v20: taken by `save`
    for sequence in range(19, 41):  # v21-v42: v40 taken by the upload itself
        upload(sequence)
    other = build_application(pg_settings)
    try:
        assert other.snapshots is not None
        snapshots = other.snapshots.get(ledger_id("X26"))
        assert [s.originator_version for s in snapshots] == [20, 40]
        decoded: list[object] = []
        to_domain_event = other.mapper.to_domain_event

        def counting(stored: Any) -> Any:
            decoded.append(event := to_domain_event(stored))
            return event

        other.mapper.to_domain_event = counting  # type: ignore[method-assign,assignment]
        ledger = other.upload_ledger("X26")
        assert [type(e).__name__ for e in decoded] == ["Snapshot", "UploadProcessed",
                                                        "UploadProcessed"]
        assert (ledger.version, ledger.last_accepted_sequence) == (42, 40)
        assert ledger.processed == pg_app.upload_ledger("X26").processed
        assert ledger.responses == {"M1": "R1"}
        assert other.upload_outcome("X26", "M1") == first
        assert isinstance(ledger, UploadLedger)
    finally:
        other.close()


def test_a_retry_holds_the_events_table_so_it_cannot_lose_again(pg_app: CpisApplication
                                                                ) -> None:
    """Inside the block no other writer saves: another application's save waits for it."""
    import threading

    other = build_application(pg_app_settings(pg_app), clock=pg_app.clock)
    try:
        pg_app.upload_plan(CHILD, plan(), UPLOAD)
        saved: list[float] = []
        with pg_app.exclusive_writes.holding(ChildProtectionRecord.create_id(CHILD)):
            record = pg_app.find_record(CHILD)
            def save_elsewhere() -> None:
                other.upload_plan(OTHER_CHILD, plan(), UPLOAD)
                saved.append(1)

            writer = threading.Thread(target=save_elsewhere)
            writer.start()
            writer.join(1.0)
            assert saved == []  # held back until the block commits
            assert record is not None
            record.end_plan(plan().key, datetime(2027, 1, 1), UPLOAD, pg_app.clock())
            pg_app.save(record)
        writer.join(30)
        assert saved == [1]
        assert other.find_record(CHILD).version == 3  # type: ignore[union-attr]
    finally:
        other.close()


def pg_app_settings(app: CpisApplication) -> Settings:
    """The settings a PostgreSQL application was built from (its schema)."""
    env = app.env
    return Settings(event_store="postgres", postgres=PostgresSettings(
        host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"], user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD", ""), schema=env.get("POSTGRES_SCHEMA", "")))
