"""Every check Spine makes on a CP-IS query (docs/hl7v3.md, "Spine's checks"), one row each:
removing or emptying each checked value gives exactly that check's fault; several at once
give each of theirs, none hidden by another."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from adapters.hl7v3.spine_checks import spine_faults
from tests.hl7 import elements, fixture

MISSING = "ErrorBase1712.MANDATORY_DATA_MISSING"
Q = "/hl7:*/hl7:ControlActEvent/hl7:subject/hl7:CP-ISQueryStub/hl7:cP-ISNHSQuery"
PERSON = Q + "/hl7:author/hl7:COCT_TP145102GB01.AssignedAuthor"
SYSTEM = Q + "/hl7:author/hl7:COCT_TP145104GB01.System"
NOMINATED = SYSTEM + "/hl7:indirectAuthority/hl7:superiorAssignedEntity"
ASID = "[@root='1.2.826.0.1285.0.2.0.107']"


@dataclass(frozen=True)
class Row:
    """A check: the value it looks at (an element, and the attribute of it or its text) in
    a query that passes every check, and the fault Spine gives without it."""

    number: int
    query: str  # fixture
    element: str
    attribute: str | None  # None: the element's text, or the element itself
    fault: str


ROWS = [
    Row(1, "query_person.xml", "/hl7:*/hl7:id", "root", "ErrorBase1732.INVALID_ID"),
    Row(2, "query_person.xml", "/hl7:*/hl7:creationTime", "value",
        "ErrorBase1732.INVALID_CREATION_TIME"),
    Row(3, "query_person.xml", "/hl7:*/hl7:versionCode", "code",
        "ErrorBase1732.INVALID_VERSION_CODE"),
    Row(4, "query_person.xml", "/hl7:*/hl7:interactionId", "extension",
        "ErrorBase1732.INCONSISTENT_HL7_INTERACTION_ID"),
    Row(5, "query_person.xml", f"/hl7:*/hl7:communicationFunctionRcv/hl7:device/hl7:id{ASID}",
        "extension", "ErrorBase1732.INVALID_COMM_FUNC_RCV"),
    Row(6, "query_person.xml", f"/hl7:*/hl7:communicationFunctionSnd/hl7:device/hl7:id{ASID}",
        "extension", "ErrorBase1732.INVALID_COMM_FUNC_SND"),
    Row(9, "query_person.xml", "/hl7:*/hl7:ControlActEvent/hl7:author1/hl7:AgentSystemSDS/"
        f"hl7:agentSystemSDS/hl7:id{ASID}", "extension", f"{MISSING}|author1"),
    Row(10, "query_person.xml", Q + "/hl7:id", "root", f"{MISSING}|Event ID"),
    Row(11, "query_person.xml", Q + "/hl7:queryByParameter/hl7:person.NHSnumber/hl7:value",
        "extension", f"{MISSING}|NHS Number"),
    Row(13, "query_person.xml", PERSON + "/hl7:code", "code", f"{MISSING}|Job Role Code"),
    Row(14, "query_person.xml", PERSON + "/hl7:code", "displayName",
        f"{MISSING}|Job Role Name"),
    Row(15, "query_person.xml", PERSON + "/hl7:representedOrganization/hl7:id", "extension",
        f"{MISSING}|Organisation Code"),
    Row(16, "query_person.xml", PERSON + "/hl7:representedOrganization/hl7:name", None,
        f"{MISSING}|Organisation Name"),
    Row(17, "query_person.xml", PERSON + "/hl7:id[@root='1.2.826.0.1285.0.2.0.65']",
        "extension", f"{MISSING}|authorID"),
    Row(18, "query_system.xml", SYSTEM + f"/hl7:id{ASID}", "extension",
        f"{MISSING}|authorDevice.systemID"),
    Row(19, "query_system.xml", SYSTEM + "/hl7:maintainingOrganization/hl7:id", "extension",
        f"{MISSING}|authorDevice.orgCode"),
    Row(20, "query_system.xml", SYSTEM + "/hl7:maintainingOrganization/hl7:name", None,
        f"{MISSING}|authorDevice.orgName"),
    Row(21, "query_system.xml", NOMINATED + "/hl7:code", "code",
        f"{MISSING}|authorDevice.jobRoleCode"),
    Row(22, "query_system.xml", NOMINATED + "/hl7:code", "displayName",
        f"{MISSING}|authorDevice.jobRoleName"),
]
# checks of an element's presence: removing it is the only way to fail them
PRESENCE = [
    Row(12, "query_person.xml", Q + "/hl7:author", None,
        f"{MISSING}|[authorPerson or authorDevice]"),
    Row(23, "query_system.xml", NOMINATED + "/hl7:assignedPerson/hl7:name", None,
        f"{MISSING}|authorDevice.assignedPersonName"),
]


def root_of(name: str) -> etree._Element:
    return etree.fromstring(fixture(name))


def take_away(root: etree._Element, row: Row, remove: bool) -> None:
    [el] = elements(root, row.element)
    if row.attribute is not None:
        if remove:
            del el.attrib[row.attribute]
        else:
            el.set(row.attribute, "")
    elif remove or len(el) != 0:
        parent = el.getparent()
        assert parent is not None
        parent.remove(el)
    else:
        el.text = ""


def test_the_fixtures_pass_every_check() -> None:
    assert spine_faults(root_of("query_person.xml")) == []
    assert spine_faults(root_of("query_system.xml")) == []


@given(st.sampled_from(ROWS), st.booleans())
def test_removing_or_emptying_a_checked_value_gives_exactly_its_fault(row: Row, remove: bool
                                                                       ) -> None:
    root = root_of(row.query)
    take_away(root, row, remove)
    assert [f.line for f in spine_faults(root)] == [row.fault]


@given(st.sampled_from(PRESENCE))
def test_removing_a_checked_element_gives_exactly_its_fault(row: Row) -> None:
    root = root_of(row.query)
    take_away(root, row, remove=True)
    assert [f.line for f in spine_faults(root)] == [row.fault]


@given(st.sets(st.sampled_from([r for r in ROWS if r.query == "query_person.xml"]),
               min_size=2))
def test_several_values_missing_give_each_fault_none_hidden(rows: set[Row]) -> None:
    root = root_of("query_person.xml")
    for row in rows:
        take_away(root, row, remove=False)
    found = [f.line for f in spine_faults(root)]
    assert sorted(found) == sorted(row.fault for row in rows)


def test_no_control_act_fails_it_and_the_author1_checks_under_it() -> None:
    """Row 7, and rows 8 and 9, which look inside it (every check runs)."""
    root = root_of("query_person.xml")
    take_away(root, Row(7, "", "/hl7:*/hl7:ControlActEvent", None, ""), remove=True)
    assert [f.line for f in spine_faults(root)] == [
        "ErrorBase1732.INVALID_CONTROL_ACT", f"{MISSING}|author1", f"{MISSING}|author1"]


def test_two_author1_and_none_are_both_faults() -> None:
    """Row 8: exactly one author1 (the schema allows two; Spine does not), and row 9:
    exactly one author1 ASID. Either breaks both, as on Spine."""
    root = root_of("query_person.xml")
    [author1] = elements(root, "/hl7:*/hl7:ControlActEvent/hl7:author1")
    author1.addnext(etree.fromstring(etree.tostring(author1)))
    assert [f.line for f in spine_faults(root)] == [f"{MISSING}|author1"] * 2
    for extra in elements(root, "/hl7:*/hl7:ControlActEvent/hl7:author1"):
        parent = extra.getparent()
        assert parent is not None
        parent.remove(extra)
    assert [f.line for f in spine_faults(root)] == [f"{MISSING}|author1"] * 2


def test_a_query_wrapped_in_another_element_is_not_checked_as_one() -> None:
    """Spine's wrapper checks match only a query that is the Body's child: given its
    wrapper instead, each finds nothing where it looks."""
    wrapper = etree.Element("{urn:hl7-org:v3}QUPC_IN000006GB01")
    wrapper.append(root_of("query_person.xml"))
    assert "ErrorBase1732.INVALID_ID" in [f.line for f in spine_faults(wrapper)]
