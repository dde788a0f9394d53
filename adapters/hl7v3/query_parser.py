"""Parse a QUPC_IN000006GB01 CP-IS NHS query into plain values, or raise Hl7Error.

Spine's checks run first, all of them (spine_checks.py), then CP-IS's checks of the access
time and the NHS number's form (Modulus 11), all reported together; then CP-IS's other
stricter checks as the values are read (length windows, the author's name, a system author's
nominated person's role, which access control needs), the first of them reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.errors import (
    Hl7Error,
    access_denied,
    invalid_message,
    mandatory_missing,
    out_of_range,
    with_spine_faults,
)
from adapters.hl7v3.spine_checks import QUERY_PATH, Fault, spine_faults
from adapters.hl7v3.timestamps import parse_ts
from domain.model.authors import (
    Author,
    NominatedPerson,
    PersonAuthor,
    PersonName,
    SystemAuthor,
)
from domain.model.errors import DomainError, OutOfRangeError
from domain.model.limits import MAX_ID, MAX_TEXT, check_text, shortened
from domain.model.nhs_number import NhsNumber

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
    silent: bool  # accessEventType false, at its place: honoured for scheduled care only
    interaction: str
    job_role: str  # the person's, or a system's nominated person's


@dataclass(frozen=True)
class Sent:
    """What a message says of itself, read without judging it: to record a refusal."""

    message_id: str | None = None
    sender_asid: str | None = None
    event_id: str | None = None
    nhs_number: str | None = None
    organisation_ods: str | None = None


def what_was_sent(message: Element) -> Sent:
    """Each value as sent, cut to MAX_ID characters: it is recorded with the refusal."""
    if etree.QName(message).namespace != v.HL7:
        return Sent()
    query = _find(message, "hl7:ControlActEvent/hl7:subject/hl7:CP-ISQueryStub/hl7:cP-ISNHSQuery")
    org = None
    if query is not None:
        org = (_attr(query, "hl7:author/hl7:COCT_TP145102GB01.AssignedAuthor/"
                     "hl7:representedOrganization/hl7:id", "extension")
               or _attr(query, "hl7:author/hl7:COCT_TP145104GB01.System/"
                        "hl7:maintainingOrganization/hl7:id", "extension"))
    return Sent(
        message_id=_cut(_attr(message, "hl7:id", "root")),
        sender_asid=_cut(_attr(message, "hl7:communicationFunctionSnd/hl7:device/hl7:id",
                               "extension")),
        event_id=_cut(_attr(query, "hl7:id", "root")) if query is not None else None,
        nhs_number=_cut(_attr(query, "hl7:queryByParameter/hl7:person.NHSnumber/hl7:value",
                              "extension")) if query is not None else None,
        organisation_ods=_cut(org))


def _cut(value: str | None) -> str | None:
    return None if value is None else shortened(value, MAX_ID)


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


def _require(value: str | None, what: str, longest: int = MAX_ID) -> str:
    if value is None:
        raise mandatory_missing(what)
    try:
        check_text(value, what, longest)
    except OutOfRangeError as error:
        raise out_of_range(str(error)) from None
    return value


def _optional(value: str | None, what: str, longest: int = MAX_ID) -> str | None:
    return None if value is None else _require(value, what, longest)


def check_root(root: Element) -> None:
    """A CP-IS NHS query at all: Spine's checks (spine_checks.py) need one to run on."""
    if etree.QName(root).namespace != v.HL7:
        raise invalid_message(f"root element must be in namespace {v.HL7}")
    name = etree.QName(root).localname
    if name != v.QUERY:
        raise invalid_message(f"expected a {v.QUERY} CP-IS NHS query, got {name}")


def checked_query(root: Element) -> ParsedQuery:
    """The query, once every Spine check passes and then CP-IS's own; else Hl7Error listing
    every Spine fault, then CP-IS's first where it adds one."""
    check_root(root)
    faults = spine_faults(root) + own_faults(root)
    try:
        parsed = parse_query(root)
    except Hl7Error as own:
        if not faults:
            raise
        raise with_spine_faults(faults, own) from None
    if faults:
        raise with_spine_faults(faults, None)
    return parsed


def own_faults(root: Element) -> list[Fault]:
    """CP-IS's checks of values Spine takes as they come (it checks presence only), each
    run whatever the others find: the access time and the NHS number's form."""
    found: list[Fault] = []
    for query in root.findall(QUERY_PATH, NS):
        for check in (_effective_time, _nhs_number):
            try:
                check(query)
            except Hl7Error as error:
                if error.code != "MANDATORY_DATA_MISSING" or check is _effective_time:
                    found += error.faults
    return found


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
    author, job_role = parse_author(query)
    return ParsedQuery(
        message_id=message_id, sender_asid=sender,
        event_id=_require(_attr(query, "hl7:id", "root"), "Event ID"),
        effective_time=_effective_time(query),
        author=author,
        nhs_number=_nhs_number(query),
        silent=_is_silent(query),
        interaction=etree.QName(root).localname,
        job_role=job_role,
    )


def _effective_time(query: Element) -> datetime:
    value = _require(_attr(query, "hl7:effectiveTime", "value"), "effectiveTime")
    try:
        return parse_ts(value)
    except ValueError as error:
        raise out_of_range(str(error)) from None


def _nhs_number(query: Element) -> NhsNumber:
    raw = _require(
        _attr(query, "hl7:queryByParameter/hl7:person.NHSnumber/hl7:value", "extension"),
        "NHS Number")
    try:
        return NhsNumber.parse(raw)
    except DomainError as error:
        raise Hl7Error("INVALID_NHS_NUMBER", str(error)) from None


def _is_silent(query: Element) -> bool:
    """RC5 Patch D: `accessEventType value="false"` marks a scheduled-care silent read. Its
    exact place is not public; CP-IS takes it as a child of cP-ISNHSQuery, and nowhere
    else (inside a name, say, it is text the sender chose, not the flag)."""
    flag = query.find("hl7:accessEventType", NS)
    return flag is not None and (flag.get("value") or "").strip().lower() == "false"


def parse_author(query: Element) -> tuple[Author, str]:
    """The author, and the job role it asks under (a system's: its nominated person's)."""
    author = _find(query, "hl7:author")
    if author is None or len(author) == 0:
        raise mandatory_missing("author (authorPerson or authorDevice)")
    person = _find(author, "hl7:COCT_TP145102GB01.AssignedAuthor")
    if person is not None:
        found = _person(person)
        return found, found.job_role_code
    system = _find(author, "hl7:COCT_TP145104GB01.System")
    if system is not None:
        role = _attr(system, "hl7:indirectAuthority/hl7:superiorAssignedEntity/hl7:code",
                     "code")
        return _system(system), _require(role, "nominated person's job role") if role else ""
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
            role_profile_id=_optional(ids.get(v.SDS_ROLE_PROFILE_ROOT), "role profile id"),
            job_role_code=_require(role, "job role code"),
            job_role_name=_require(_attr(el, "hl7:code", "displayName"), "job role displayName",
                                   MAX_TEXT),
            name=PersonName(
                given=_require(_text(el, "hl7:assignedAuthorPerson/hl7:name/hl7:given"),
                               "author given name", MAX_TEXT),
                family=_require(_text(el, "hl7:assignedAuthorPerson/hl7:name/hl7:family"),
                                "author family name", MAX_TEXT),
                prefix=_optional(_text(el, "hl7:assignedAuthorPerson/hl7:name/hl7:prefix"),
                                 "author name prefix", MAX_TEXT),
                use=_optional(_attr(el, "hl7:assignedAuthorPerson/hl7:name", "use"),
                              "author name use")),
            organisation_ods=ods,
            organisation_name=_require(_text(el, "hl7:representedOrganization/hl7:name"),
                                       "author organisation name", MAX_TEXT),
        )
    except DomainError as error:
        raise access_denied(str(error)) from None


def _nominated(el: Element, role: str) -> NominatedPerson:
    """The person the system acts for (the first indirectAuthority)."""
    entity = "hl7:indirectAuthority/hl7:superiorAssignedEntity/"
    name = entity + "hl7:assignedPerson/hl7:name/hl7:"
    return NominatedPerson(
        job_role_code=_require(role, "nominated person's job role"),
        job_role_name=_optional(_attr(el, entity + "hl7:code", "displayName"),
                                "nominated person's job role name", MAX_TEXT),
        given=_optional(_text(el, name + "given"), "nominated person's given name", MAX_TEXT),
        family=_optional(_text(el, name + "family"), "nominated person's family name",
                         MAX_TEXT),
        prefix=_optional(_text(el, name + "prefix"), "nominated person's name prefix",
                         MAX_TEXT))


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
                                       "maintaining organisation name", MAX_TEXT),
            nominated=_nominated(el, role),
        )
    except DomainError as error:
        raise access_denied(str(error)) from None
