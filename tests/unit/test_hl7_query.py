"""The HL7 V3 CP-IS NHS query: parsing, the response, every error path, hostile XML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from adapters.hl7v3.query_service import Caller
from domain.model.authors import PersonAuthor, SystemAuthor
from domain.model.nhs_number import NhsNumber
from domain.model.record import ChildProtectionRecord as Record
from tests.builders import CHILD, MOTHER
from tests.hl7 import (
    CARE_SETTING,
    ENDPOINTS,
    NS,
    REQUEST_MESSAGE_ID,
    edited,
    fixture,
    hl7_of,
    remove,
    seeded_app,
    service,
    set_attr,
    soap,
    xp,
)

QUERY = "//hl7:cP-ISNHSQuery"
AUTHOR = QUERY + "/hl7:author"


def ask(body: bytes, header: str | None = None) -> tuple[int, etree._Element]:
    reply = service(seeded_app()).handle(body, Caller(None, header))
    return reply.status, hl7_of(reply.body)


def error_code(message: etree._Element) -> str:
    return xp(message, "//hl7:justifyingDetectedIssueEvent/hl7:code/@code")[0]


# -- success ---------------------------------------------------------------------------

def test_person_query_is_answered_with_the_golden_response() -> None:
    app = seeded_app()
    svc = service(app)
    svc.handle(soap(fixture("query_system.xml")))
    reply = svc.handle(soap(fixture("query_person.xml")))
    assert reply.status == 200
    assert reply.body == fixture("response_person.xml")


def test_unborn_child_query_by_the_mothers_number_matches_its_golden_response() -> None:
    body = soap(fixture("query_person.xml").replace(b"9998765439", MOTHER.value.encode()))
    assert service(seeded_app()).handle(body).body == fixture("response_unborn.xml")


def test_response_carries_every_plan_with_la_contacts_and_no_delete_date() -> None:
    status, message = ask(soap(fixture("query_person.xml")))
    assert status == 200
    assert etree.QName(message).localname == "REPC_IN000007GB01"
    assert xp(message, "//hl7:queryAck/hl7:queryResponseCode/@code") == ["OK"]
    organisations = "//hl7:pertinentCP-ISRecordControlAct/hl7:record/hl7:communicationFunctionSnd"
    assert xp(message, organisations + "/hl7:organisation/hl7:id/@extension") == ["X26", "X27"]
    assert xp(message, organisations + "//hl7:telecom/@use") == ["WP", "EC", "WP", "EC"]
    assert xp(message, "//hl7:cPPStartDate/hl7:value/@value") == ["202501060900"]
    assert xp(message, "//hl7:lACEndDate/hl7:value/@value") == ["202502010900"]
    assert b"DeleteDate" not in etree.tostring(message)
    assert xp(message, "//hl7:pertinentTotalReturnedChildRecords/hl7:value/@value") == ["2"]


def test_response_emits_no_fixed_attributes() -> None:
    _, message = ask(soap(fixture("query_person.xml")))
    payload = message.find(".//hl7:CP-ISNHSQueryResponse", NS)
    assert payload is not None
    for el in payload.iter():
        assert not {"classCode", "moodCode", "typeCode"} & set(el.attrib), el.tag
    assert payload.find(".//hl7:code[@code='04']", NS) is None


def test_the_query_is_recorded_as_an_access_and_shown_in_the_history() -> None:
    app = seeded_app()
    reply = service(app).handle(soap(fixture("query_person.xml")))
    history = xp(hl7_of(reply.body), "//hl7:pertinentCP-ISNHSQuery/hl7:id/@root")
    assert history == ["0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5"]
    record = app.find_record(CHILD)
    assert record is not None
    [access] = record.accesses
    assert isinstance(access.author, PersonAuthor)
    assert access.author.organisation_ods == "RXX01"
    assert access.accessed_at == datetime(2026, 11, 1, 11, 59, 59, tzinfo=UTC)
    events = list(app.events.get(record.id))
    accessed = [e for e in events if isinstance(e, Record.InformationAccessed)]
    assert accessed[0].provenance.message_id == "6B2F3E10-7A41-4C3E-9A51-1D2B3C4D5E6F"
    assert accessed[0].provenance.asid == "200000000001"


def test_a_system_author_is_recorded_as_a_system() -> None:
    app = seeded_app()
    assert service(app).handle(soap(fixture("query_system.xml"))).status == 200
    record = app.find_record(CHILD)
    assert record is not None
    assert isinstance(record.accesses[0].author, SystemAuthor)


def test_a_bare_hl7_message_without_soap_is_accepted() -> None:
    status, _ = ask(fixture("query_person.xml"))
    assert status == 200


# -- no record and errors ---------------------------------------------------------------

def test_unknown_nhs_number_gets_query_act_failed_no_records_found() -> None:
    body = soap(fixture("query_person.xml").replace(b"9998765439", b"9990000018"))
    status, message = ask(body)
    assert status == 200
    assert etree.QName(message).localname == "QUQI_IN010000UK14"
    assert xp(message, "//hl7:queryResponseCode/@code") == ["NF"]
    assert error_code(message) == "NO_RECORDS_FOUND"
    assert xp(message, "//hl7:messageRef/hl7:id/@root") == [
        "6B2F3E10-7A41-4C3E-9A51-1D2B3C4D5E6F"]
    assert service(seeded_app()).handle(body).body == fixture("response_no_records.xml")


MISSING = "ErrorBase1712.MANDATORY_DATA_MISSING"


def faults(message: etree._Element) -> list[str]:
    """The fault lines a detected-issues answer lists, in order."""
    return xp(message, "//hl7:justifyingDetectedIssueEvent/hl7:code/@displayName")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (edited("query_person.xml", remove(QUERY + "/hl7:queryByParameter")),
         [f"{MISSING}|NHS Number"]),
        (edited("query_person.xml", remove(AUTHOR)), [f"{MISSING}|[authorPerson or authorDevice]"]),
        (edited("query_person.xml", remove(QUERY + "/hl7:id")), [f"{MISSING}|Event ID"]),
        (edited("query_person.xml", remove("/hl7:*/hl7:ControlActEvent/hl7:author1")),
         [f"{MISSING}|author1", f"{MISSING}|author1"]),  # both of Spine's author1 checks
        (edited("query_person.xml", set_attr("/hl7:*/hl7:interactionId", "extension",
                                             "QUPC_IN000005GB01")),
         ["ErrorBase1732.INCONSISTENT_HL7_INTERACTION_ID"]),
    ],
    ids=["no-nhs-number", "no-author", "no-event-id", "no-author1", "interaction-mismatch"],
)
def test_a_query_failing_spines_checks_gets_detected_issues_naming_each(
    body: bytes, expected: list[str]
) -> None:
    got_status, message = ask(body)
    assert got_status == 400
    assert etree.QName(message).localname == "MCCI_IN010000UK13"
    assert xp(message, "hl7:acknowledgement/@typeCode") == ["AE"]
    assert faults(message) == expected
    assert message.find(".//hl7:queryAck", NS) is None


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        (edited("query_person.xml", set_attr("//hl7:person.NHSnumber/hl7:value", "extension",
                                             "9434765918")),
         "CPIS.INVALID_NHS_NUMBER", "fails the Modulus 11 check"),
        (edited("query_person.xml", set_attr(QUERY + "/hl7:effectiveTime", "value", "yesterday")),
         "CPIS.OUT_OF_RANGE", "not an HL7 timestamp"),
        (soap(b'<QUPC_IN000006GB01 xmlns="urn:example:wrong"/>'), "CPIS.INVALID_MESSAGE",
         "namespace urn:hl7-org:v3"),
        (soap(b'<REPC_IN000007GB01 xmlns="urn:hl7-org:v3"/>'), "CPIS.INVALID_MESSAGE",
         "expected a QUPC_IN000006GB01"),
        (b"<QUPC_IN000006GB01", "CPIS.INVALID_MESSAGE", "not well-formed"),
        (b"", "CPIS.INVALID_MESSAGE", "not well-formed"),
    ],
    ids=["invalid-nhs-number", "bad-time", "wrong-namespace", "wrong-root", "malformed",
         "empty"],
)
def test_a_query_failing_cpis_own_checks_gets_its_fault(body: bytes, code: str, text: str
                                                        ) -> None:
    got_status, message = ask(body)
    assert got_status == 400
    assert etree.QName(message).localname == "MCCI_IN010000UK13"
    assert error_code(message) == code
    [line] = faults(message)
    assert text in line
    assert b"Traceback" not in etree.tostring(message)


def test_every_fault_of_a_message_is_reported_together_spines_first() -> None:
    def edit(root: etree._Element) -> None:
        for path in ("/hl7:*/hl7:creationTime", "/hl7:*/hl7:versionCode",
                     AUTHOR + "//hl7:representedOrganization/hl7:name"):
            remove(path)(root)
        set_attr("//hl7:person.NHSnumber/hl7:value", "extension", "9434765918")(root)

    _, message = ask(edited("query_person.xml", edit))
    assert faults(message) == [
        "ErrorBase1732.INVALID_CREATION_TIME", "ErrorBase1732.INVALID_VERSION_CODE",
        f"{MISSING}|Organisation Name",
        "CPIS.INVALID_NHS_NUMBER|NHS number 9434765918 fails the Modulus 11 check: check "
        "digit should be 9, not 8"]


@pytest.mark.parametrize(
    "edit",
    [
        remove(AUTHOR + "//hl7:representedOrganization/hl7:id"),
        remove(AUTHOR + "//hl7:COCT_TP145102GB01.AssignedAuthor/hl7:code"),
    ],
    ids=["no-ods-code", "no-role"],
)
def test_an_author_without_ods_code_or_role_gets_spines_fault_and_the_refusal_recorded(
    edit: object,
) -> None:
    app = seeded_app()
    reply = service(app).handle(edited("query_person.xml", edit))  # type: ignore[arg-type]
    assert reply.status == 400
    assert faults(hl7_of(reply.body)) in (  # no code element: no code and no displayName
        [f"{MISSING}|Organisation Code"], [f"{MISSING}|Job Role Code", f"{MISSING}|Job Role Name"])
    assert reply.outcome == "refused: MANDATORY_DATA_MISSING"
    record = app.find_record(CHILD)
    assert record is not None
    assert record.accesses == []
    [refused] = [e for e in app.events.get(record.id) if isinstance(e, Record.QueryRefused)]
    assert refused.refusal.reason.value == "malformed"
    assert refused.provenance.message_id == "6B2F3E10-7A41-4C3E-9A51-1D2B3C4D5E6F"


def test_a_system_without_a_nominated_persons_role_is_denied() -> None:
    status, message = ask(edited("query_system.xml", remove(AUTHOR + "//hl7:indirectAuthority")))
    assert status == 403
    assert error_code(message) == "CPIS.ACCESS_DENIED"


def test_an_internal_failure_is_an_hl7_error_not_a_stack_trace() -> None:
    class Broken:
        def query(self, request: object) -> object:
            raise RuntimeError("database on fire")

    from adapters.hl7v3.query_service import Hl7QueryService

    svc = Hl7QueryService(Broken(), "990000000001",  # type: ignore[arg-type]
                          lambda: datetime(2026, 11, 1, tzinfo=UTC), ENDPOINTS)
    reply = svc.handle(soap(fixture("query_person.xml")))
    assert reply.status == 500
    assert error_code(hl7_of(reply.body)) == "CPIS.INTERNAL_ERROR"
    assert b"database on fire" not in reply.body


# -- hostile XML ------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE q [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<QUPC_IN000006GB01 xmlns="urn:hl7-org:v3"><id root="&xxe;"/></QUPC_IN000006GB01>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<QUPC_IN000006GB01 xmlns="urn:hl7-org:v3"><id root="&lol4;"/></QUPC_IN000006GB01>"""


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_attacks_are_rejected(payload: bytes) -> None:
    status, message = ask(payload)
    assert status == 400
    assert error_code(message) == "CPIS.INVALID_MESSAGE"
    assert b"root:" not in etree.tostring(message)
    assert b"lollol" not in etree.tostring(message)


def test_utf16_doctype_is_rejected_after_parsing() -> None:
    status, message = ask(XXE.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16"))
    assert status == 400
    assert error_code(message) == "CPIS.INVALID_MESSAGE"


def test_an_oversized_body_is_refused_before_parsing() -> None:
    body = soap(fixture("query_person.xml")) + b" " * 1_000_001
    status, message = ask(body)
    assert status == 413
    assert error_code(message) == "CPIS.MESSAGE_TOO_LARGE"


def test_parsed_nhs_number_is_normalised() -> None:
    from adapters.hl7v3.query_parser import parse_query

    root = etree.fromstring(fixture("query_person.xml").replace(b"9998765439", b"999 876 5439"))
    assert parse_query(root).nhs_number == NhsNumber("9998765439")


@pytest.mark.parametrize(
    ("query", "edit", "expected"),
    [
        ("query_person.xml", remove("/hl7:*/hl7:creationTime"),
         ["ErrorBase1732.INVALID_CREATION_TIME"]),
        ("query_person.xml", remove("/hl7:*/hl7:versionCode"),
         ["ErrorBase1732.INVALID_VERSION_CODE"]),
        ("query_person.xml", remove("/hl7:*/hl7:communicationFunctionRcv"),
         ["ErrorBase1732.INVALID_COMM_FUNC_RCV"]),
        ("query_system.xml", remove("//hl7:superiorAssignedEntity/hl7:assignedPerson/hl7:name"),
         [f"{MISSING}|authorDevice.assignedPersonName"]),
        ("query_system.xml", set_attr("//hl7:superiorAssignedEntity/hl7:code", "displayName",
                                      ""), [f"{MISSING}|authorDevice.jobRoleName"]),
    ],
    ids=["no-creation-time", "no-version-code", "no-receiver", "no-nominated-name",
         "no-nominated-role-name"],
)
def test_what_spine_refuses_is_refused_here_too(query: str, edit: object,
                                                expected: list[str]) -> None:
    app = seeded_app()
    reply = service(app).handle(edited(query, edit))  # type: ignore[arg-type]
    assert reply.status == 400
    assert faults(hl7_of(reply.body)) == expected
    record = app.find_record(CHILD)
    assert record is not None
    assert record.accesses == []  # refused, recorded as a refusal, not an access


def test_the_answer_is_addressed_as_spine_addresses_it() -> None:
    reply = service(seeded_app()).handle(soap(fixture("query_person.xml")))
    envelope = etree.fromstring(reply.body)
    wsa = {"wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing", **NS}
    header = envelope.find("soap:Header", NS)
    assert header is not None
    assert header.xpath("wsa:RelatesTo/text()", namespaces=wsa) == [
        f"uuid:{REQUEST_MESSAGE_ID}"]
    assert header.xpath("wsa:To/text()", namespaces=wsa) == [CARE_SETTING]
    assert header.xpath("wsa:From/wsa:Address/text()", namespaces=wsa) == [
        "https://cpisquery.national.ncrs.nhs.uk/syncservice"]
    assert header.xpath("hl7:communicationFunctionRcv/hl7:device/hl7:id/@extension",
                        namespaces=wsa) == ["200000000001"]  # the requester
    assert header.xpath("hl7:communicationFunctionSnd/hl7:device/hl7:id/@extension",
                        namespaces=wsa) == ["990000000001"]  # CP-IS
    message_id = str(header.xpath("string(wsa:MessageID)", namespaces=wsa))
    assert envelope.xpath("soap:Body/hl7:CP-ISNHSQueryResponse/hl7:REPC_IN000007GB01/hl7:id/"
                          "@root", namespaces=NS) == [str(message_id).removeprefix("uuid:")]
    message = hl7_of(reply.body)
    assert xp(message, "//hl7:queryAck/@type") == ["QueryAck"]
    assert xp(message, "hl7:creationTime/@value") == ["20261101120000"]


def test_without_a_wsa_message_id_the_answer_relates_to_the_hl7_id() -> None:
    body = soap(fixture("query_person.xml")).replace(
        f"<wsa:MessageID>uuid:{REQUEST_MESSAGE_ID}</wsa:MessageID>".encode(), b"")
    envelope = etree.fromstring(service(seeded_app()).handle(body).body)
    assert envelope.xpath("//*[local-name()='RelatesTo']/text()") == [
        "uuid:6B2F3E10-7A41-4C3E-9A51-1D2B3C4D5E6F"]


def test_the_author_as_sent_is_shown_in_the_history_name_use_and_nominated_person() -> None:
    app = seeded_app()
    svc = service(app)
    svc.handle(soap(fixture("query_system.xml")))
    reply = svc.handle(edited("query_person.xml", set_attr(
        AUTHOR + "//hl7:assignedAuthorPerson/hl7:name", "use", "L")))
    message = hl7_of(reply.body)
    assert xp(message, "//hl7:pertinentCP-ISNHSQuery//hl7:assignedAuthorPerson/hl7:name/@use"
              ) == ["L"]
    assert xp(message, "//hl7:pertinentCP-ISNHSQuery//hl7:indirectAuthority//hl7:assignedPerson"
              "/hl7:name/hl7:given/text()") == ["Nina"]
