"""An author has one written form everywhere; forms written before that still read."""

from __future__ import annotations

import json

from eventsourcing.persistence import JSONTranscoder

from adapters.views.pg_rows import author_from_json, author_json
from domain.application.transcodings import register_domain_transcodings
from domain.model.authors import author_fields, author_from_fields
from streams.avro.values import author_in, author_out
from tests.builders import person, system


def transcoder() -> JSONTranscoder:
    found = JSONTranscoder()
    register_domain_transcodings(found)
    return found


def test_every_writer_writes_the_same_fields() -> None:
    for author in (person(), system()):
        fields = author_fields(author)
        assert author_out(author)[1] == fields
        assert author_json(author) == fields
        stored = json.loads(transcoder().encode(author))
        assert stored["_data_"] == fields
        assert author_from_fields(fields) == author
        assert author_in(fields) == author
        assert transcoder().decode(transcoder().encode(author)) == author


def test_a_person_stored_as_json_before_authors_had_one_form_still_reads() -> None:
    old = {"_type_": "person_author", "_data_": {
        "sds_user_id": "555000000001", "job_role_code": "R8000",
        "job_role_name": "Clinical Practitioner Access Role",
        "name": {"_type_": "person_name",
                 "_data_": {"given": "Dana", "family": "Doctor", "prefix": "Dr"}},
        "organisation_ods": "RXX01", "organisation_name": "Example General Hospital ED",
        "role_profile_id": "555000000002"}}
    assert transcoder().decode(json.dumps(old).encode()) == person()


def test_a_view_row_written_before_authors_had_one_form_still_reads() -> None:
    old = {"kind": "person", "sds_user_id": "555000000001", "role_profile_id": "555000000002",
           "job_role_code": "R8000", "job_role_name": "Clinical Practitioner Access Role",
           "prefix": "Dr", "given": "Dana", "family": "Doctor", "organisation_ods": "RXX01",
           "organisation_name": "Example General Hospital ED"}
    assert author_from_json(old) == person()
