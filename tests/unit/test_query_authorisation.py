"""Who may ask CP-IS (the endpoint registry), where a silent read is honoured, and that every
refused request is recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from adapters.hl7v3.endpoints import EndpointRegistry, EndpointRegistryError
from adapters.hl7v3.query_service import Caller
from domain.application.app import CpisApplication
from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import RefusalReason, UnnumberedRefusal
from tests.builders import CHILD
from tests.hl7 import (
    edited,
    elements,
    fixture,
    hl7_of,
    scheduled_care_query,
    seeded_app,
    sent_by,
    service,
    set_attr,
    soap,
    xp,
)

Edit = Callable[[etree._Element], None]


def recorded(app: CpisApplication) -> list[Any]:
    record = app.find_record(CHILD)
    assert record is not None
    return [e for e in app.events.get(record.id) if isinstance(
        e, Record.InformationAccessed | Record.InformationReadSilently | Record.QueryRefused)]


def flag(where: str = "//hl7:cP-ISNHSQuery") -> Edit:
    def edit(root: etree._Element) -> None:
        [parent] = elements(root, where)
        etree.SubElement(parent, "{urn:hl7-org:v3}accessEventType", value="false")
    return edit


def code_of(body: bytes) -> str:
    return xp(hl7_of(body), "//hl7:justifyingDetectedIssueEvent/hl7:code/@code")[0]


# -- silent reads -------------------------------------------------------------------------

def test_a_scheduled_care_endpoint_reads_silently_with_the_flag_in_its_place() -> None:
    app = seeded_app()
    reply = service(app).handle(scheduled_care_query(flag()))
    assert (reply.status, reply.outcome) == (200, "silent read")
    assert xp(hl7_of(reply.body),
              "//hl7:pertinentTotalReturnedAccessRecords/hl7:value/@value") == ["0"]
    assert [type(e).__name__ for e in recorded(app)] == ["InformationReadSilently"]


def test_a_scheduled_care_endpoint_reads_silently_with_the_header() -> None:
    app = seeded_app()
    reply = service(app).handle(scheduled_care_query(), Caller(None, "false"))
    assert reply.outcome == "silent read"
    assert [type(e).__name__ for e in recorded(app)] == ["InformationReadSilently"]


@pytest.mark.parametrize("header", [None, "false"])
def test_an_unscheduled_care_endpoint_cannot_read_silently(header: str | None) -> None:
    app = seeded_app()
    body = edited("query_person.xml", flag()) if header is None else soap(
        fixture("query_person.xml"))
    reply = service(app).handle(body, Caller(None, header))
    assert reply.outcome == "answered"
    assert [type(e).__name__ for e in recorded(app)] == ["InformationAccessed"]


def test_the_flag_anywhere_but_its_place_is_not_a_silent_read() -> None:
    app = seeded_app()
    reply = service(app).handle(scheduled_care_query(flag("//hl7:assignedAuthorPerson/hl7:name")))
    assert reply.outcome == "answered"
    assert [type(e).__name__ for e in recorded(app)] == ["InformationAccessed"]


# -- who may ask ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("edit", "why"),
    [(sent_by("200000000099", "RXX01"), "ASID 200000000099 is not registered"),
     (sent_by("200000000001", "RYY02"), "may not act for organisation RYY02"),
     (set_attr("//hl7:COCT_TP145102GB01.AssignedAuthor/hl7:code", "code", "R9999"),
      "job role R9999 may not query")],
    ids=["unregistered-asid", "organisation-not-allowed", "job-role-not-allowed"])
def test_a_query_the_registry_does_not_allow_is_refused_and_recorded(edit: Edit,
                                                                    why: str) -> None:
    app = seeded_app()
    reply = service(app).handle(edited("query_person.xml", edit))
    assert reply.status == 403
    assert code_of(reply.body) == "CPIS.ACCESS_DENIED"
    assert why in xp(hl7_of(reply.body), "//hl7:justifyingDetectedIssueEvent/hl7:code/"
                     "@displayName")[0]
    [refused] = recorded(app)
    assert isinstance(refused, Record.QueryRefused)
    assert refused.refusal.reason is RefusalReason.NOT_AUTHORISED
    assert xp(hl7_of(reply.body), "//hl7:pertinentCP-ISRecordControlAct") == []


def test_an_interaction_the_endpoint_may_not_send_is_refused() -> None:
    registry = EndpointRegistry.from_json(json.dumps({
        "job_roles": ["R8000"],
        "endpoints": [{"asid": "200000000001", "organisations": ["RXX01"],
                       "interactions": ["QUPC_IN000005GB01"], "care": "unscheduled"}]}))
    reply = service(seeded_app(), endpoints=registry).handle(soap(fixture("query_person.xml")))
    assert reply.status == 403
    assert "may not send QUPC_IN000006GB01" in reply.body.decode()


def test_the_certificate_names_the_endpoint_and_the_message_must_say_the_same_asid() -> None:
    app = seeded_app()
    svc = service(app)
    good = svc.handle(soap(fixture("query_person.xml")), Caller("ed.example-trust.nhs.uk"))
    assert good.status == 200
    other = svc.handle(soap(fixture("query_person.xml")), Caller("gp.example-practice.nhs.uk"))
    assert other.status == 403
    assert "not the ASID of the client certificate" in other.body.decode()
    unknown = svc.handle(soap(fixture("query_person.xml")), Caller("intruder.example.com"))
    assert unknown.status == 403
    assert "'intruder.example.com' is not registered" in unknown.body.decode()


def test_a_request_that_is_not_a_query_at_all_is_recorded_as_a_refusal() -> None:
    app = seeded_app()
    reply = service(app).handle(b"<not-xml")
    assert reply.status == 400
    [event] = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(
        start=1, limit=100, topics=[UnnumberedRefusal.Recorded.TOPIC])]
    assert isinstance(event, UnnumberedRefusal.Recorded)
    assert event.refusal.reason is RefusalReason.MALFORMED


def test_a_malformed_query_naming_a_valid_number_is_recorded_on_its_record() -> None:
    app = seeded_app()
    reply = service(app).handle(edited("query_person.xml", set_attr(
        "//hl7:cP-ISNHSQuery/hl7:effectiveTime", "value", "99991231235959-2359")))
    assert (reply.status, code_of(reply.body)) == (400, "CPIS.OUT_OF_RANGE")
    [refused] = recorded(app)
    assert refused.refusal.reason is RefusalReason.OUT_OF_RANGE
    assert refused.refusal.access_id == "0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5"


@pytest.mark.parametrize(
    "text",
    ["not json", '{"endpoints": []}', '{"job_roles": ["R8000"], "endpoints": [{"asid": "x1"}]}',
     '{"job_roles": [], "endpoints": [{"asid": "1", "organisations": ["A"], '
     '"interactions": ["Q"], "care": "sometimes"}]}'],
    ids=["not-json", "no-job-roles", "bad-asid", "bad-care"])
def test_a_bad_registry_is_refused_with_a_clear_message(text: str) -> None:
    with pytest.raises(EndpointRegistryError, match="the endpoint registry: "):
        EndpointRegistry.from_json(text)


def test_the_local_registry_serves_the_fixtures() -> None:
    status = service(seeded_app()).handle(soap(fixture("query_system.xml"))).status
    assert status == 200
