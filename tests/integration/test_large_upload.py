"""A 10,000-record upload is stored whole in one transaction (it once stalled PostgreSQL's
pipeline: client and server each waiting for the other), and prepared in forked processes
it stores what applying each record in turn stores, in the same order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application.app import CpisApplication
from domain.model.record import ChildProtectionRecord as Record
from domain.model.uploads import FileCode
from streams.bootstrap import build_application
from streams.settings import Settings
from streams.uploads.forked import ForkedShards
from streams.uploads.prepared import ShardedPreparation
from tests.conftest import Clock

FILE = synthetic_file(10_000)


@pytest.fixture
def sharded(store_settings: Settings, clock: Clock) -> Iterator[CpisApplication]:
    application = build_application(replace(store_settings, upload_processes=2), clock=clock)
    try:
        yield application
    finally:
        application.close()


def log_of(app: CpisApplication) -> list[tuple[str, object, int]]:
    return [(n.topic, n.originator_id, n.originator_version)
            for n in app.recorder.select_notifications(start=1, limit=30_000)]


def test_a_ten_thousand_record_file_is_stored_whole(app: CpisApplication) -> None:
    outcome = app.process_upload(parse_la_file(FILE), "BIG", SyntheticPds.load())
    assert outcome.file_code is FileCode.CPF02
    assert outcome.successful == 10_000
    opened = app.recorder.select_notifications(start=1, limit=20_000,
                                               topics=[Record.Opened.TOPIC])
    assert len(opened) == 10_000
    log = app.recorder.select_notifications(start=1, limit=30_000)
    topics = [n.topic for n in log]
    assert topics[-2:] == ["cpis:UploadLedgerOpened.v1", "cpis:UploadProcessed.v1"]
    assert len(topics) == 20_002  # the File's outcome after its 10,000 records' two events


def test_forked_shards_store_what_applying_each_record_in_turn_stores(
    app: CpisApplication, sharded: CpisApplication
) -> None:
    assert isinstance(sharded.preparation, ShardedPreparation)
    assert isinstance(sharded.preparation.runner, ForkedShards)
    assert app.preparation is None
    pds = SyntheticPds.load()
    # half the records already there: those the shards leave to the application
    app.process_upload(parse_la_file(synthetic_file(5_000, sequence=1, first=2_500)), "A", pds)
    sharded.process_upload(parse_la_file(synthetic_file(5_000, sequence=1, first=2_500)), "A",
                           pds)
    edited = synthetic_file(10_000, sequence=2).replace(b'value="202501060900"',
                                                       b'value="202502060900"')
    outcome = sharded.process_upload(parse_la_file(edited), "B", pds)
    assert outcome == app.process_upload(parse_la_file(edited), "B", pds)
    assert outcome.successful == 10_000
    assert log_of(sharded) == log_of(app)
