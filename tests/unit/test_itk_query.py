"""The ITK Spine Mini Service route: a CP-IS query in an ITK DistributionEnvelope is checked,
authorised and recorded as on the native route, and answered SMSP-CP-ISNHSQueryResponse with
the SMSP response code for what happened (requests written from the rules, not copied)."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from adapters.hl7v3.itk import ITK
from adapters.hl7v3.query_service import Hl7QueryService
from domain.model.record import ChildProtectionRecord as Record
from tests.builders import CHILD
from tests.hl7 import ENDPOINTS, NS, fixture, remove, seeded_app, service, set_attr, soap

ITK_NS = {"itk": ITK, **NS}
QUERY_INTERACTION = "urn:nhs-itk:interaction:CP-ISNHSQuery-v1-0"


def itk(query: bytes = b"", interaction: str = QUERY_INTERACTION, edit: object = None) -> bytes:
    """The query fixture in a DistributionEnvelope, as an ITK sender writes one."""
    root = etree.fromstring(query or fixture("query_person.xml"))
    if edit is not None:
        edit(root)  # type: ignore[operator]
    payload = etree.tostring(root).decode()
    return (
        f'<itk:DistributionEnvelope xmlns:itk="{ITK}">'
        '<itk:header service="urn:nhs-itk:services:201005:SendCPISQuery-v1-0" '
        'trackingid="1B2C3D4E-0000-4000-8000-00000000ABCD">'
        '<itk:addresslist><itk:address type="2.16.840.1.113883.2.1.3.2.4.18.22" '
        'uri="urn:nhs-uk:addressing:ods:CPIS"/></itk:addresslist>'
        '<itk:auditIdentity><itk:id type="2.16.840.1.113883.2.1.3.2.4.18.27" '
        'uri="urn:nhs-uk:identity:ods:RXX01"/></itk:auditIdentity>'
        '<itk:manifest count="1"><itk:manifestitem mimetype="text/xml" id="uuid_P1" '
        'profileid="urn:nhs-en:profile:CP-ISNHSQuery-v1-0"/></itk:manifest>'
        '<itk:senderAddress type="2.16.840.1.113883.2.1.3.2.4.18.22" '
        'uri="urn:nhs-uk:addressing:ods:RXX01"/>'
        f'<itk:handlingSpecification><itk:spec key="urn:nhs-itk:ns:201005:interaction" '
        f'value="{interaction}"/></itk:handlingSpecification></itk:header>'
        f'<itk:payloads count="1"><itk:payload id="uuid_P1">{payload}</itk:payload>'
        "</itk:payloads></itk:DistributionEnvelope>").encode()


def x(root: etree._Element, path: str) -> list[str]:
    found = root.xpath(path, namespaces=ITK_NS)
    assert isinstance(found, list)
    return [str(v) for v in found]


def code(root: etree._Element) -> list[str]:
    return x(root, "//hl7:CP-ISNHSQueryResponse/hl7:value/@code")


def test_a_query_by_itk_is_answered_success_with_the_plans_and_recorded() -> None:
    app = seeded_app()
    reply = service(app).handle(itk())
    root = etree.fromstring(reply.body)
    assert (reply.status, reply.outcome) == (200, "answered")
    assert etree.QName(root) == etree.QName(ITK, "DistributionEnvelope")
    assert code(root) == ["SMSP-0000"]
    assert x(root, "itk:header/itk:handlingSpecification/itk:spec/@value") == [
        "urn:nhs-itk:interaction:SMSP-CP-ISNHSQueryResponse-v1-0"]
    assert x(root, "itk:header/itk:manifest/itk:manifestitem/@profileid") == [
        "urn:nhs-en:profile:SMSP-CP-ISNHSQueryResponse-v1-0"]
    assert x(root, "itk:header/itk:addresslist/itk:address/@uri") == [
        "urn:nhs-uk:addressing:ods:RXX01"]  # back to the sender
    assert x(root, "itk:header/itk:manifest/itk:manifestitem/@id") == x(
        root, "itk:payloads/itk:payload/@id")
    assert x(root, "//hl7:pertinentTotalReturnedChildRecords/hl7:value/@value") == ["2"]
    assert x(root, "//hl7:pertinentCP-ISRecordControlAct//hl7:organisation/hl7:id/@extension"
             ) == ["X26", "X27"]
    record = app.find_record(CHILD)
    assert record is not None
    assert [a.access_id for a in record.accesses] == ["0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5"]


def test_a_number_with_no_plan_is_no_match_with_nothing_returned() -> None:
    reply = service(seeded_app()).handle(itk(fixture("query_person.xml").replace(
        b"9998765439", b"9990000018")))
    root = etree.fromstring(reply.body)
    assert (reply.status, code(root)) == (200, ["CPIS-0001"])
    assert x(root, "//hl7:pertinentTotalReturnedChildRecords/hl7:value/@value") == ["0"]
    assert x(root, "//hl7:pertinentInformation14") == []


def test_a_query_failing_the_checks_is_an_input_validation_error_and_recorded() -> None:
    app = seeded_app()
    reply = service(app).handle(itk(edit=remove("//hl7:cP-ISNHSQuery/hl7:id")))
    assert (reply.status, code(etree.fromstring(reply.body))) == (200, ["SMSP-0001"])
    record = app.find_record(CHILD)
    assert record is not None
    assert [type(e).__name__ for e in app.events.get(record.id)][-1] == "QueryRefused"


def test_an_author_not_allowed_is_an_author_credentials_error_and_recorded() -> None:
    app = seeded_app()
    reply = service(app).handle(itk(edit=set_attr(
        "//hl7:representedOrganization/hl7:id", "extension", "ZZZ999")))
    assert (reply.status, code(etree.fromstring(reply.body))) == (200, ["SMSP-0005"])
    record = app.find_record(CHILD)
    assert record is not None
    [refused] = [e for e in app.events.get(record.id) if isinstance(e, Record.QueryRefused)]
    assert refused.refusal.reason.value == "not authorised"


def test_a_failure_of_cp_is_is_a_service_error() -> None:
    class Broken:
        def query(self, request: object) -> object:
            raise RuntimeError("database on fire")

    svc = Hl7QueryService(Broken(), "990000000001",  # type: ignore[arg-type]
                          lambda: datetime(2026, 11, 1, tzinfo=UTC), ENDPOINTS)
    reply = svc.handle(itk())
    assert (reply.status, code(etree.fromstring(reply.body))) == (200, ["CPIS-9999"])
    assert b"database on fire" not in reply.body


def test_another_itk_interaction_is_refused_as_invalid() -> None:
    reply = service(seeded_app()).handle(itk(interaction="urn:nhs-itk:interaction:Other-v1-0"))
    assert code(etree.fromstring(reply.body)) == ["SMSP-0001"]


def test_an_itk_envelope_in_a_soap_body_is_answered_in_one() -> None:
    reply = service(seeded_app()).handle(soap(itk()))
    root = etree.fromstring(reply.body)
    assert etree.QName(root).localname == "Envelope"
    assert code(root) == ["SMSP-0000"]
