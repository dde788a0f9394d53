"""The synthetic PDS verifies the bulk numbers the benchmarks upload, and no others."""

from __future__ import annotations

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from bench.relay import load_records_first
from domain.application.pds import PdsStatus
from domain.model.nhs_number import NhsNumber
from domain.model.uploads import MAX_RECORDS

PDS = SyntheticPds.load()


def test_every_number_of_the_relay_benchmarks_fifth_file_is_verified() -> None:
    """`--relay-events 200000` loads five full files; the fifth's numbers were once past the
    verified range and the benchmark stopped with 18,186 records failed."""
    upload = parse_la_file(synthetic_file(MAX_RECORDS, sequence=5, first=load_records_first(4)))
    statuses = {PDS.status(NhsNumber.parse(r.subject.nhs_number), None) for r in upload.records}
    assert statuses == {PdsStatus.VERIFIED}


def test_a_number_past_the_bulk_range_is_unknown() -> None:
    assert PDS.status(NhsNumber("9995000008"), None) is PdsStatus.UNKNOWN
    assert PDS.status(NhsNumber("9994999990"), None) is PdsStatus.VERIFIED
