"""Records are snapshotted, a cold read starts from the last snapshot, and every answer and
audit report is the same read with snapshots as without them (over random histories)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application import audit
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.application.store import RECORD_SNAPSHOT_EVERY
from domain.model.errors import DomainError, NoRecordFoundError
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord, record_id
from domain.model.upload_ledger import SNAPSHOT_EVERY, UploadLedger
from streams.avro.mapper import avro_mapper
from streams.avro.schemas import AvroSchemas
from tests.builders import LA_A, LA_B, T0, UPLOAD, person, plan, synthetic_nhs_numbers

REGISTRY = AvroSchemas()
CHILDREN = synthetic_nhs_numbers(3)
PDS = Provenance(Channel.PDS, "PDS-1")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> Any:
        return self.now


class OftenSnapshotted(CpisApplication):
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        UploadLedger: SNAPSHOT_EVERY, ChildProtectionRecord: 3}


class NeverSnapshotted(CpisApplication):
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {}


@contextmanager
def opened(cls: type[CpisApplication], path: Path, clock: Clock) -> Iterator[CpisApplication]:
    app = cls(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)},
              clock=clock, mapper=avro_mapper(REGISTRY))
    try:
        yield app
    finally:
        app.close()


# (what, child, other child or author, minutes on)
steps = st.lists(st.tuples(st.sampled_from(["query", "query", "query", "upload", "end",
                                            "merge"]),
                           st.integers(0, 2), st.integers(0, 3), st.integers(0, 26 * 60)),
                 min_size=1, max_size=40)


def play(app: CpisApplication, clock: Clock, drawn: list[tuple[str, int, int, int]]) -> None:
    for n, (what, child, other, minutes) in enumerate(drawn):
        clock.now += timedelta(minutes=minutes)
        number = CHILDREN[child]
        try:
            if what == "query":
                app.query(QueryRequest(number, person(str(other)), clock.now, f"Q{n}",
                                       Provenance(Channel.HL7V3, f"M{n}")))
            elif what == "upload":
                app.upload_plan(number, plan(la=LA_A if other % 2 else LA_B), UPLOAD)
            elif what == "end":
                key = plan(la=LA_A if other % 2 else LA_B).key
                app.end_plan(number, key.ods_code, key.plan_type,
                             (clock.now - timedelta(hours=1)).replace(tzinfo=None), UPLOAD)
            elif other % 3 != child:
                app.merge(number, CHILDREN[other % 3], PDS)
        except DomainError:
            pass  # a refused command leaves what it leaves (a refusal, or nothing)


def reports(app: CpisApplication, clock: Clock, query_ids: list[str]) -> list[Any]:
    """Everything an answer or an audit report reads from a record, for every number."""
    out: list[Any] = []
    for number in CHILDREN:
        record = app.find_record(number)
        if record is None:
            continue
        out.append(record.version)
        out.append(record.current_plans(clock.now))
        out.append(record.access_history())
        for version in range(1, record.version + 1):
            at_version = app.find_record(number, version=version)
            assert at_version is not None
            out.append((at_version.current_plans(clock.now), at_version.access_history(),
                        at_version.superseded_by, at_version.merged_from))
        out.append(audit.full_history(app, number))
        out.append(audit.record_at(app, number, clock.now))
        out.extend(audit.query_given(app, number, q) for q in query_ids)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_answers_and_audit_reports_are_the_same_with_and_without_snapshots(
        drawn: list[tuple[str, int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path, clock = Path(folder) / "events.sqlite", Clock()
        with opened(OftenSnapshotted, path, clock) as app:
            play(app, clock, drawn)
        query_ids = [f"Q{n}" for n in range(len(drawn))]
        with opened(OftenSnapshotted, path, clock) as app:
            with_snapshots = reports(app, clock, query_ids)
        with opened(NeverSnapshotted, path, clock) as app:
            without = reports(app, clock, query_ids)
        assert with_snapshots == without


def test_a_record_is_snapshotted_and_a_cold_read_starts_from_the_snapshot(
        tmp_path: Path) -> None:
    clock, child = Clock(), CHILDREN[0]
    path = tmp_path / "events.sqlite"
    with opened(CpisApplication, path, clock) as app:
        app.upload_plan(child, plan(), UPLOAD)
        for n in range(int(RECORD_SNAPSHOT_EVERY * 2.5)):
            clock.now += timedelta(hours=1)
            app.query(QueryRequest(child, person(str(n % 7)), clock.now, f"Q{n}",
                                   Provenance(Channel.HL7V3, f"M{n}")))
        warm = app.find_record(child)
    with opened(CpisApplication, path, clock) as app:
        assert app.snapshots is not None
        taken = [s.originator_version for s in app.snapshots.get(record_id(child))]
        assert taken == [RECORD_SNAPSHOT_EVERY, 2 * RECORD_SNAPSHOT_EVERY]
        read_after: list[int | None] = []
        reading = app.repository.event_store.get

        def counted(*args: Any, **kwargs: Any) -> Any:
            read_after.append(kwargs.get("gt"))
            return reading(*args, **kwargs)

        app.repository.event_store.get = counted  # type: ignore[method-assign]
        cold = app.find_record(child)
    assert read_after == [2 * RECORD_SNAPSHOT_EVERY]
    assert cold is not None
    assert warm is not None
    assert (cold.version, cold.current_plans(clock.now), cold.access_history()) == (
        warm.version, warm.current_plans(clock.now), warm.access_history())


def test_an_upload_takes_the_snapshot_it_makes_due(tmp_path: Path) -> None:
    """An upload stores its events outside `save`; a record it takes to a multiple of the
    interval is snapshotted all the same."""
    clock, child = Clock(), NhsNumber("9990100004")
    with opened(OftenSnapshotted, tmp_path / "events.sqlite", clock) as app:
        with contextlib.suppress(NoRecordFoundError):  # opened (v1), answered "no records"
            app.query(QueryRequest(child, person(), clock.now, "Q",
                                   Provenance(Channel.HL7V3, "M")))
        app.process_upload(parse_la_file(synthetic_file(1)), "MESH-1", SyntheticPds.load())
        assert app.snapshots is not None
        assert [s.originator_version for s in app.snapshots.get(record_id(child))] == [3]
        assert [p.local_authority.ods_code for p in app.current_plans(child)] == ["X26"]
