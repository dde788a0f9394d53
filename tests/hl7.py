"""HL7 V3 test helpers: our own fixtures, SOAP wrapping, edits and reading replies."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from lxml import etree

from adapters.hl7v3.endpoints import EndpointRegistry
from adapters.hl7v3.query_service import Hl7QueryService
from domain.application.app import CpisApplication
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from streams.settings import LOCAL_ENDPOINTS
from tests.builders import CHILD, LA_A, LA_B, MOTHER, T0, UPLOAD

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hl7v3"
NS = {"hl7": "urn:hl7-org:v3", "soap": "http://schemas.xmlsoap.org/soap/envelope/",
      "npfitlc": "NPFIT:HL7:Localisation"}
REQUEST_MESSAGE_ID = "9C1D2E3F-4A5B-4C6D-8E7F-0A1B2C3D4E5F"  # the request's wsa:MessageID
CARE_SETTING = "https://ed.example.nhs.uk/cpis"
SOAP_OPEN = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
             b'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"><soap:Header>'
             b"<wsa:MessageID>uuid:" + REQUEST_MESSAGE_ID.encode() + b"</wsa:MessageID>"
             b"<wsa:Action>urn:nhs:names:services:cpisquery/QUPC_IN000006GB01</wsa:Action>"
             b"<wsa:To>https://cpisquery.national.ncrs.nhs.uk/syncservice</wsa:To>"
             b"<wsa:From><wsa:Address>" + CARE_SETTING.encode() + b"</wsa:Address></wsa:From>"
             b"</soap:Header><soap:Body>")
SOAP_CLOSE = b"</soap:Body></soap:Envelope>"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def soap(message: bytes) -> bytes:
    body = message.split(b"?>", 1)[1] if message.startswith(b"<?xml") else message
    return SOAP_OPEN + body + SOAP_CLOSE


def edited(name: str, edit: Callable[[etree._Element], None]) -> bytes:
    """The fixture with `edit` applied to its root, wrapped in SOAP."""
    root = etree.fromstring(fixture(name))
    edit(root)
    return soap(etree.tostring(root))


def elements(root: etree._Element, path: str) -> list[etree._Element]:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [el for el in found if isinstance(el, etree._Element)]


def remove(path: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        matched = elements(root, path)
        assert matched, f"the fixture has no {path}"
        for el in matched:
            parent = el.getparent()
            assert parent is not None
            parent.remove(el)
    return edit


def set_attr(path: str, name: str, value: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        matched = elements(root, path)
        assert matched, f"the fixture has no {path}"
        for el in matched:
            el.set(name, value)
    return edit


def hl7_of(reply_body: bytes) -> etree._Element:
    """The HL7 message inside a SOAP reply."""
    envelope = etree.fromstring(reply_body)
    body = envelope.find("soap:Body", NS)
    assert body is not None
    message = body[0]
    if etree.QName(message).localname == "CP-ISNHSQueryResponse":  # Spine's wrapper
        return message[0]
    return message


def xp(el: etree._Element, path: str) -> list[str]:
    found = el.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(x) for x in found]


def counter_ids() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(numbers):012d}"


def seeded_app(now: datetime = T0) -> CpisApplication:
    """CHILD: CPP by X26 (with the LA's local id) and ended LAC by X27; MOTHER: UCP by X27."""
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: now)
    amy = Subject("Amy", "Example", date(2016, 3, 1), "LA-CHILD-001")
    app.upload_plan(CHILD, Plan(PlanType.CHILD_PROTECTION_PLAN, LA_A,
                                PlanDates(datetime(2025, 1, 6, 9, 0)), amy), UPLOAD)
    app.upload_plan(CHILD, Plan(PlanType.LOOKED_AFTER_CHILD, LA_B,
                                PlanDates(datetime(2024, 2, 1, 9, 0), datetime(2025, 2, 1, 9, 0),
                                          datetime(2027, 2, 1, 0, 0)), amy), UPLOAD)
    app.upload_plan(MOTHER, Plan(PlanType.UNBORN_CHILD_PROTECTION_PLAN, LA_B,
                                 PlanDates(datetime(2026, 8, 1, 9, 0), datetime(2027, 2, 1, 9, 0)),
                                 Subject("Carla", "Mother", date(1998, 7, 14))), UPLOAD)
    return app


# the bundled local registry: ASID 200000000001 (unscheduled care, RXX01) and
# 200000000002 (scheduled care, A99001)
ENDPOINTS = EndpointRegistry.load(LOCAL_ENDPOINTS)


def service(app: CpisApplication, now: datetime = T0,
            endpoints: EndpointRegistry = ENDPOINTS) -> Hl7QueryService:
    return Hl7QueryService(app, "990000000001", lambda: now, endpoints, ids=counter_ids())


def sent_by(asid: str, ods: str) -> Callable[[etree._Element], None]:
    """An edit: the query sent by system `asid` for a clinician of organisation `ods`."""
    def edit(root: etree._Element) -> None:
        for path in ("/hl7:*/hl7:communicationFunctionSnd/hl7:device/hl7:id",
                     "//hl7:author1//hl7:agentSystemSDS/hl7:id"):
            for el in elements(root, path):
                el.set("extension", asid)
        for el in elements(root, "//hl7:representedOrganization/hl7:id"):
            el.set("extension", ods)
    return edit


def scheduled_care_query(*more: Callable[[etree._Element], None]) -> bytes:
    """query_person.xml from the local registry's scheduled-care endpoint (a GP practice)."""
    def edit(root: etree._Element) -> None:
        sent_by("200000000002", "A99001")(root)
        for other in more:
            other(root)
    return edited("query_person.xml", edit)


def asked_now(root: etree._Element) -> None:
    """An edit: the query made now (a running `cpis serve` goes by the real clock)."""
    for el in elements(root, "//hl7:cP-ISNHSQuery/hl7:effectiveTime"):
        el.set("value", datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000"))


def event_id(value: str) -> Callable[[etree._Element], None]:
    """An edit: the query's event id."""
    return set_attr("//hl7:cP-ISNHSQuery/hl7:id", "root", value)


def query_now(*more: Callable[[etree._Element], None], name: str = "query_person.xml") -> bytes:
    """The fixture query made now, with `more` edits, in SOAP."""
    def edit(root: etree._Element) -> None:
        asked_now(root)
        for other in more:
            other(root)
    return edited(name, edit)
