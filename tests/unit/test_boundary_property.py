"""A property over every field of every inbound message, driven to its extremes: whatever
CP-IS accepts reads back (from the store, and through the Avro the relay publishes), and
every query and audit report still works afterwards."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.mesh.la_file import FileRejectedError, parse_la_file
from adapters.pds.feed_file import read_changes
from adapters.pds.synthetic import SyntheticPds
from domain.application import audit, audit_reads
from domain.application.app import CpisApplication
from domain.application.identity import apply_identity_change
from domain.model.errors import DomainError
from domain.model.identity import IdentityChange
from domain.model.nhs_number import NhsNumber
from domain.model.record import record_id
from streams.avro.codec import decode_event, encode_event
from streams.avro.mapper import avro_mapper
from streams.avro.schemas import AvroSchemas
from tests.builders import CHILD, LA_A, T0, UPLOAD, plan
from tests.hl7 import elements, fixture, service, soap
from tests.mesh_helpers import MESH_FIXTURES

REGISTRY = AvroSchemas()
QUERY = fixture("query_person.xml")
FILE = (MESH_FIXTURES / "upload_valid.xml").read_bytes()
HUGE = "x" * 5000

# extreme values for each kind of field
TIMESTAMPS = st.sampled_from([
    "99991231235959-2359", "00010101000000+2359", "99991231235959", "00010101", "20261101",
    "20261101115959+0000", "20261101120400+0000", "20261101120600+0000", "20261031115959",
    "20261101115959+2359", "20261101115959-2359", "20261101115959.999999+0100", "2026"])
NUMBERS = st.sampled_from(["0000000000", "9999999999", "9990000018", CHILD.value,
                           "4010232137", "9434765919", "99999999999999999999999", "", " "])
TEXTS = st.one_of(st.sampled_from(["", " ", HUGE, "\n\r\t", "😀" * 300, "<&>", "R8000"]),
                  st.text(max_size=300))
PLAN_DATES = st.sampled_from(["000101010000", "999912312359", "190001010000", "209912312359",
                              "202510010900", "202513010900", "20251001", "abc"])
BIRTHS = st.sampled_from(["00010101", "99991231", "19000101", "20170505", "20261231",
                          "20170230"])
WHOLE = st.sampled_from(["0", "-1", "2", "2147483647", "2147483648",
                         "99999999999999999999999", "1e3", ""])

QUERY_FIELDS = {
    "//hl7:cP-ISNHSQuery/hl7:effectiveTime/@value": TIMESTAMPS,
    "//hl7:cP-ISNHSQuery/hl7:id/@root": TEXTS,
    "/hl7:*/hl7:id/@root": TEXTS,
    "//hl7:person.NHSnumber/hl7:value/@extension": NUMBERS,
    "//hl7:COCT_TP145102GB01.AssignedAuthor/hl7:code/@displayName": TEXTS,
    "//hl7:COCT_TP145102GB01.AssignedAuthor/hl7:id[1]/@extension": TEXTS,
    "//hl7:COCT_TP145102GB01.AssignedAuthor/hl7:id[2]/@extension": TEXTS,
    "//hl7:assignedAuthorPerson/hl7:name/hl7:given": TEXTS,
    "//hl7:assignedAuthorPerson/hl7:name/hl7:family": TEXTS,
    "//hl7:assignedAuthorPerson/hl7:name/hl7:prefix": TEXTS,
    "//hl7:representedOrganization/hl7:name": TEXTS,
}
FILE_FIELDS = {
    "/hl7:File/hl7:id/@extension": WHOLE,
    "/hl7:File/hl7:transmissionQuantity/@value": WHOLE,
    "//hl7:cPPStartDate/hl7:value/@value": PLAN_DATES,
    "//hl7:birthTime/@value": BIRTHS,
    "//hl7:COCT_TP145101GB01.Child/hl7:id[1]/@extension": NUMBERS,
    "//hl7:COCT_TP145101GB01.Child/hl7:id[2]/@extension": TEXTS,
    "//hl7:childPerson/hl7:name/hl7:given": TEXTS,
    "//hl7:childPerson/hl7:name/hl7:family": TEXTS,
    "//hl7:organisation/hl7:name": TEXTS,
}


def edit(original: bytes, values: dict[str, str]) -> bytes:
    root = etree.fromstring(original)
    for path, value in values.items():
        where, _, attribute = path.partition("/@")
        for el in elements(root, where):
            clean = "".join(c for c in value if c.isprintable() or c in "\n\t")
            if attribute:
                el.set(attribute, clean)
            else:
                el.text = clean
    return etree.tostring(root)


def fields(spec: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional=spec)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries=st.lists(fields(QUERY_FIELDS), max_size=4),
       files=st.lists(fields(FILE_FIELDS), max_size=3),
       changes=st.lists(st.tuples(NUMBERS, NUMBERS, TEXTS), max_size=2))
def test_whatever_is_accepted_reads_back_and_every_report_still_works(
    queries: list[dict[str, str]], files: list[dict[str, str]],
    changes: list[tuple[str, str, str]],
) -> None:
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                          mapper=avro_mapper(REGISTRY), clock=lambda: T0)
    app.upload_plan(CHILD, plan(la=LA_A), UPLOAD)
    queried = service(app)
    for n, values in enumerate(queries):
        reply = queried.handle(soap(edit(QUERY, {"//hl7:cP-ISNHSQuery/hl7:id/@root": f"Q{n}",
                                                 **values})))
        assert reply.status in (200, 400, 403, 413)
    for n, values in enumerate(files):
        try:
            upload = parse_la_file(edit(FILE, values))
        except FileRejectedError:
            continue
        app.process_upload(upload, f"MESH-{n}", SyntheticPds.load())
    for n, (old, new, feed_id) in enumerate(changes):
        rows = list(read_changes(f"feed_id,change,nhs_number,replacement\n{feed_id or n},"
                                 f"superseded,{old},{new}\n", "feed.csv"))
        for row in rows:
            if isinstance(row, IdentityChange):
                with contextlib.suppress(DomainError):
                    apply_identity_change(app, row)
    everything_reads_back(app)


def everything_reads_back(app: CpisApplication) -> None:
    numbers: set[NhsNumber] = set()
    for notification in app.recorder.select_notifications(1, 10_000):
        event = app.mapper.to_domain_event(notification)  # reads back from the store
        again, _ = decode_event(*REGISTRY.decode(REGISTRY.encode(*encode_event(event, 1))))
        assert again == event  # and through the Avro the relay publishes
        number = getattr(event, "nhs_number", None)
        if isinstance(number, NhsNumber):
            numbers.add(number)
    for number in numbers:
        record = app.find_record(number)
        assert record is not None
        assert record.id == record_id(number)
        record.access_history()
        record.current_plans(T0)
        audit.full_history(app, number)
        audit.record_at(app, number, T0 + timedelta(days=1))
    audit_reads.accesses_by_organisation(app, T0 - timedelta(days=400), T0 + timedelta(days=400))
