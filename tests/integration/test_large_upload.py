"""A 10,000-record upload is stored whole in one transaction (it once stalled PostgreSQL's
pipeline: client and server each waiting for the other)."""

from __future__ import annotations

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application import CpisApplication
from domain.record import ChildProtectionRecord as Record
from domain.uploads import FileCode


def test_a_ten_thousand_record_file_is_stored_whole(app: CpisApplication) -> None:
    outcome = app.process_upload(parse_la_file(synthetic_file(10_000)), "BIG",
                                 SyntheticPds.load())
    assert outcome.file_code is FileCode.CPF02
    assert outcome.successful == 10_000
    opened = app.recorder.select_notifications(start=1, limit=20_000,
                                               topics=[Record.Opened.TOPIC])
    assert len(opened) == 10_000
