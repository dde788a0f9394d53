"""Parse a QUPC_IN000006GB01 CP-IS NHS query into plain values, or raise Hl7Error.

The checks follow Spine's validation of this interaction: message id, interaction id equal to
the root element, sender ASID, control act author1 ASID, event id, NHS number and an author
that is either a person (COCT_TP145102GB01) or a system (COCT_TP145104GB01). An author with no
ODS code or no role is refused as access denied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.errors import Hl7Error, access_denied, invalid_message, mandatory_missing
from adapters.hl7v3.timestamps import parse_ts
from domain.authors import Author, PersonAuthor, PersonName, SystemAuthor
from domain.errors import DomainError
from domain.nhs_number import NhsNumber

NS = {"hl7": v.HL7, "npfitlc": v.NPFITLC}
Element = etree._Element


@dataclass(frozen=True)
class ParsedQuery:
    message_id: str
    sender_asid: str
    event_id: str
    effective_time: datetime
    author: Author
    nhs_number: NhsNumber
    silent: bool


def _find(el: Element, path: str) -> Element | None:
    return el.find(path, NS)


def _attr(el: Element, path: str, name: str) -> str | None:
    found = el if path == "." else _find(el, path)
    if found is None:
        return None
    value = found.get(name)
    return value.strip() if value and value.strip() else None


def _text(el: Element, path: str) -> str | None:
    found = _find(el, path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def _require(value: str | None, what: str) -> str:
    if value is None:
        raise mandatory_missing(what)
    return value


def check_root(root: Element) -> None:
    if etree.QName(root).namespace != v.HL7:
        raise invalid_message(f"root element must be in namespace {v.HL7}")
    name = etree.QName(root).localname
    if name != v.QUERY:
        raise invalid_message(f"expected a {v.QUERY} CP-IS NHS query, got {name}")
    interaction = _attr(root, "hl7:interactionId", "extension")
    if interaction != name:
        raise Hl7Error("INCONSISTENT_HL7_INTERACTION_ID",
                       f"interactionId {interaction!r} does not match the root element {name}")


def parse_query(root: Element) -> ParsedQuery:
    check_root(root)
    message_id = _require(_attr(root, "hl7:id", "root"), "message id")
    sender = _require(_attr(root, "hl7:communicationFunctionSnd/hl7:device/hl7:id", "extension"),
                      "sender ASID (communicationFunctionSnd)")
    act = _find(root, "hl7:ControlActEvent")
    if act is None:
        raise mandatory_missing("ControlActEvent")
    _require(_attr(act, "hl7:author1/hl7:AgentSystemSDS/hl7:agentSystemSDS/hl7:id", "extension"),
             "author1 ASID")
    query = _find(act, "hl7:subject/hl7:CP-ISQueryStub/hl7:cP-ISNHSQuery")
    if query is None:
        raise mandatory_missing("CP-ISQueryStub/cP-ISNHSQuery")
    return ParsedQuery(
        message_id=message_id, sender_asid=sender,
        event_id=_require(_attr(query, "hl7:id", "root"), "Event ID"),
        effective_time=_effective_time(query),
        author=parse_author(query),
        nhs_number=_nhs_number(query),
        silent=_is_silent(query),
    )


def _effective_time(query: Element) -> datetime:
    value = _require(_attr(query, "hl7:effectiveTime", "value"), "effectiveTime")
    try:
        return parse_ts(value)
    except ValueError as error:
        raise invalid_message(str(error)) from None


def _nhs_number(query: Element) -> NhsNumber:
    raw = _require(
        _attr(query, "hl7:queryByParameter/hl7:person.NHSnumber/hl7:value", "extension"),
        "NHS Number")
    try:
        return NhsNumber.parse(raw)
    except DomainError as error:
        raise Hl7Error("INVALID_NHS_NUMBER", str(error)) from None


def _is_silent(query: Element) -> bool:
    """RC5 Patch D: accessEventType false marks a scheduled-care silent read."""
    flag = query.find(".//hl7:accessEventType", NS)
    return flag is not None and (flag.get("value") or "").strip().lower() == "false"


def parse_author(query: Element) -> Author:
    author = _find(query, "hl7:author")
    if author is None or len(author) == 0:
        raise mandatory_missing("author (authorPerson or authorDevice)")
    person = _find(author, "hl7:COCT_TP145102GB01.AssignedAuthor")
    if person is not None:
        return _person(person)
    system = _find(author, "hl7:COCT_TP145104GB01.System")
    if system is not None:
        return _system(system)
    raise mandatory_missing("author (authorPerson or authorDevice)")


def _person(el: Element) -> PersonAuthor:
    ods = _attr(el, "hl7:representedOrganization/hl7:id", "extension")
    role = _attr(el, "hl7:code", "code")
    if ods is None or role is None:
        raise access_denied("the author carries no organisation ODS code or no job role")
    ids = {i.get("root"): i.get("extension") for i in el.findall("hl7:id", NS)}
    try:
        return PersonAuthor(
            sds_user_id=_require(ids.get(v.SDS_USER_ROOT), "author SDS user id"),
            role_profile_id=ids.get(v.SDS_ROLE_PROFILE_ROOT),
            job_role_code=role,
            job_role_name=_require(_attr(el, "hl7:code", "displayName"), "job role displayName"),
            name=PersonName(
                given=_require(_text(el, "hl7:assignedAuthorPerson/hl7:name/hl7:given"),
                               "author given name"),
                family=_require(_text(el, "hl7:assignedAuthorPerson/hl7:name/hl7:family"),
                                "author family name"),
                prefix=_text(el, "hl7:assignedAuthorPerson/hl7:name/hl7:prefix")),
            organisation_ods=ods,
            organisation_name=_require(_text(el, "hl7:representedOrganization/hl7:name"),
                                       "author organisation name"),
        )
    except DomainError as error:
        raise access_denied(str(error)) from None


def _system(el: Element) -> SystemAuthor:
    ods = _attr(el, "hl7:maintainingOrganization/hl7:id", "extension")
    role = _attr(el, "hl7:indirectAuthority/hl7:superiorAssignedEntity/hl7:code", "code")
    if ods is None or role is None:
        raise access_denied("the system author carries no organisation ODS code or no "
                            "nominated person's role (indirectAuthority)")
    try:
        return SystemAuthor(
            asid=_require(_attr(el, "hl7:id", "extension"), "system ASID"),
            organisation_ods=ods,
            organisation_name=_require(_text(el, "hl7:maintainingOrganization/hl7:name"),
                                       "maintaining organisation name"),
        )
    except DomainError as error:
        raise access_denied(str(error)) from None
