"""Fuzzing the HL7 V3 and MESH parsers with hypothesis: whatever the bytes, the answer is
an HL7 error or a FileRejectedError, never a crash or a stack trace."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.mesh.la_file import FileRejectedError, parse_la_file
from domain.model.uploads import LaUpload
from tests.hl7 import fixture, hl7_of, seeded_app, service, soap
from tests.unit.test_la_upload import FIXTURES as MESH_FIXTURES

QUERY = fixture("query_person.xml")
UPLOAD = (MESH_FIXTURES / "upload_mixed.xml").read_bytes()
SERVICE = service(seeded_app())


def mutated(original: bytes) -> st.SearchStrategy[bytes]:
    """The original with a slice replaced by random bytes or a random XML-ish token."""
    tokens = st.sampled_from([b"<", b">", b"&", b"&lol;", b"<!DOCTYPE x>", b"]]>", b"\x00",
                              b'"', b"</File>", b"<record>", b"9434765918", b"-1", b""])
    return st.tuples(st.integers(0, len(original)), st.integers(0, 40),
                     st.one_of(st.binary(max_size=40), tokens)).map(
        lambda t: original[:t[0]] + t[2] + original[t[0] + t[1]:])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), mutated(QUERY), mutated(soap(QUERY))))
def test_any_bytes_to_the_query_service_get_an_hl7_answer(data: bytes) -> None:
    reply = SERVICE.handle(data)
    assert reply.status in (200, 400, 403, 413)
    message = hl7_of(reply.body)
    assert etree.QName(message).localname in ("REPC_IN000007GB01", "QUQI_IN010000UK14",
                                                   "MCCI_IN010000UK13")
    assert b"Traceback" not in reply.body


def read(data: bytes) -> LaUpload | FileRejectedError:
    try:
        return parse_la_file(data)
    except FileRejectedError as error:
        return error


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), mutated(UPLOAD)))
def test_any_bytes_as_an_upload_file_are_read_or_refused_cleanly(data: bytes) -> None:
    upload = read(data)
    if isinstance(upload, FileRejectedError):
        assert upload.detail
        return
    assert upload.local_authority.ods_code  # a file read whole names its LA
    for record in upload.records:
        assert record.location.startswith("/File/record[")
