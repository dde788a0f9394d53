"""The checks NHS Spine makes on a QUPC_IN000006GB01 CP-IS NHS query, every one of them, with
Spine's fault names and details (docs/hl7v3.md has the table, one row a check).

As on Spine, every check runs, none stops the others: a message missing three things is told
of all three. A check passes on presence (exactly one, non-empty), never on format; the
formats CP-IS needs (Modulus 11, ranges, lengths) are its own stricter checks, reported in
the same answer after Spine's (`cpis_faults`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from adapters.hl7v3 import vocabulary as v

Element = etree._Element
NS = {"hl7": v.HL7}
WRAPPER = "ErrorBase1732"
MISSING = "ErrorBase1712.MANDATORY_DATA_MISSING"
QUERY_PATH = "hl7:ControlActEvent/hl7:subject/hl7:CP-ISQueryStub/hl7:cP-ISNHSQuery"
PERSON = "hl7:author/hl7:COCT_TP145102GB01.AssignedAuthor"
SYSTEM = "hl7:author/hl7:COCT_TP145104GB01.System"


@dataclass(frozen=True)
class Fault:
    """One failed check: `name` as Spine names it (ErrorBase...) or as CP-IS does (CPIS...),
    and the detail Spine writes after a `|`."""

    name: str
    detail: str = ""

    @property
    def line(self) -> str:
        return f"{self.name}|{self.detail}" if self.detail else self.name

    @property
    def spine(self) -> bool:
        return self.name.startswith("ErrorBase")


def _values(el: Element, path: str) -> list[str]:
    found = el.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(value) for value in found]


def _one(el: Element, path: str) -> bool:
    """Exactly one value at `path`, and it is not empty."""
    found = _values(el, path)
    return len(found) == 1 and len(found[0]) > 0


def _filled(el: Element, path: str) -> bool:
    """The first value at `path` is not empty (XPath's string-length of a node set)."""
    found = _values(el, path)
    return bool(found) and len(found[0]) > 0


def _count(el: Element, path: str) -> int:
    found = el.xpath(f"count({path})", namespaces=NS)
    assert isinstance(found, float)
    return int(found)


def _text(path: str) -> str:
    return f"string({path})"


def _has_text(el: Element, path: str) -> bool:
    found = el.xpath(_text(path), namespaces=NS)
    return isinstance(found, str) and len(found) > 0


ASID = f"[@root='{v.ASID_ROOT}']/@extension"
Check = tuple[Callable[[Element], bool], Fault]

WRAPPER_CHECKS: list[Check] = [
    (lambda i: _one(i, "hl7:id/@root") and _count(i, "hl7:id") == 1,
     Fault(f"{WRAPPER}.INVALID_ID")),
    (lambda i: _one(i, "hl7:creationTime/@value") and _count(i, "hl7:creationTime") == 1,
     Fault(f"{WRAPPER}.INVALID_CREATION_TIME")),
    (lambda i: _one(i, "hl7:versionCode/@code") and _count(i, "hl7:versionCode") == 1,
     Fault(f"{WRAPPER}.INVALID_VERSION_CODE")),
    (lambda i: _values(i, f"hl7:interactionId[@root='{v.INTERACTION_ROOT}']/@extension")
     == [etree.QName(i).localname], Fault(f"{WRAPPER}.INCONSISTENT_HL7_INTERACTION_ID")),
    (lambda i: _one(i, f"hl7:communicationFunctionRcv/hl7:device/hl7:id{ASID}"),
     Fault(f"{WRAPPER}.INVALID_COMM_FUNC_RCV")),
    (lambda i: _one(i, f"hl7:communicationFunctionSnd/hl7:device/hl7:id{ASID}"),
     Fault(f"{WRAPPER}.INVALID_COMM_FUNC_SND")),
    (lambda i: _count(i, "hl7:ControlActEvent") == 1, Fault(f"{WRAPPER}.INVALID_CONTROL_ACT")),
    (lambda i: _count(i, "hl7:ControlActEvent/hl7:author1") == 1, Fault(MISSING, "author1")),
    (lambda i: _one(i, "hl7:ControlActEvent/hl7:author1/hl7:AgentSystemSDS/"
                       f"hl7:agentSystemSDS/hl7:id{ASID}"), Fault(MISSING, "author1")),
]

QUERY_CHECKS: list[Check] = [
    (lambda q: _filled(q, "hl7:id/@root"), Fault(MISSING, "Event ID")),
    (lambda q: _filled(q, "hl7:queryByParameter/hl7:person.NHSnumber/hl7:value/@extension"),
     Fault(MISSING, "NHS Number")),
    (lambda q: _count(q, f"{PERSON} | {SYSTEM}") > 0,
     Fault(MISSING, "[authorPerson or authorDevice]")),
]

PERSON_CHECKS: list[Check] = [
    (lambda p: _filled(p, "hl7:code/@code"), Fault(MISSING, "Job Role Code")),
    (lambda p: _filled(p, "hl7:code/@displayName"), Fault(MISSING, "Job Role Name")),
    (lambda p: _filled(p, "hl7:representedOrganization/hl7:id/@extension"),
     Fault(MISSING, "Organisation Code")),
    (lambda p: _has_text(p, "hl7:representedOrganization/hl7:name"),
     Fault(MISSING, "Organisation Name")),
    (lambda p: _filled(p, f"hl7:id[@root='{v.SDS_USER_ROOT}']/@extension"),
     Fault(MISSING, "authorID")),
]

SYSTEM_CHECKS: list[Check] = [
    (lambda s: _filled(s, f"hl7:id{ASID}"), Fault(MISSING, "authorDevice.systemID")),
    (lambda s: _filled(s, "hl7:maintainingOrganization/hl7:id/@extension"),
     Fault(MISSING, "authorDevice.orgCode")),
    (lambda s: _has_text(s, "hl7:maintainingOrganization/hl7:name"),
     Fault(MISSING, "authorDevice.orgName")),
]

NOMINATED_PERSON_CHECKS: list[Check] = [
    (lambda a: _filled(a, "hl7:superiorAssignedEntity/hl7:code/@code"),
     Fault(MISSING, "authorDevice.jobRoleCode")),
    (lambda a: _filled(a, "hl7:superiorAssignedEntity/hl7:code/@displayName"),
     Fault(MISSING, "authorDevice.jobRoleName")),
    (lambda a: _count(a, "hl7:superiorAssignedEntity/hl7:assignedPerson/hl7:name") > 0,
     Fault(MISSING, "authorDevice.assignedPersonName")),
]


def _failed(checks: list[Check], context: Element) -> list[Fault]:
    return [fault for passes, fault in checks if not passes(context)]


def spine_faults(interaction: Element) -> list[Fault]:
    """Every fault Spine finds in the query `interaction` (the SOAP Body's child), in the
    order its checks run."""
    faults = _failed(WRAPPER_CHECKS, interaction)
    for query in interaction.findall(QUERY_PATH, NS):
        faults += _failed(QUERY_CHECKS, query)
        for person in query.findall(PERSON, NS):
            faults += _failed(PERSON_CHECKS, person)
        for system in query.findall(SYSTEM, NS):
            faults += _failed(SYSTEM_CHECKS, system)
            for nominated in system.findall("hl7:indirectAuthority", NS):
                faults += _failed(NOMINATED_PERSON_CHECKS, nominated)
    return faults
