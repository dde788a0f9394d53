"""Read a local authority's upload `File` (REPC_MT000002GB01) into a LaUpload.

File-level faults (not XML, not a File, no sequence number, count or LA details) raise
FileRejectedError, answered with CPF01. Record-level faults become the record's `problem`, so the
rest of the file still counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import overload

from lxml import etree

from adapters.mesh.xml_values import (
    HL7,
    NS,
    Element,
    attr,
    birth_date,
    find,
    plan_date,
    text,
)
from adapters.safe_xml import XmlRejectedError, parse_xml
from domain.model.errors import DomainError
from domain.model.limits import check_text, check_whole_number
from domain.model.local_authority import LocalAuthority
from domain.model.uploads import LaUpload, PlanUpload, RecordUpload, SubjectUpload

MAX_FILE_BYTES = 200_000_000
NHS_ROOT = "2.16.840.1.113883.2.1.4.1"
LOCAL_ROOT = "2.16.840.1.113883.2.1.3.2.4.18.24"
SUBJECT, PERTINENT, ID = f"{{{HL7}}}subject", f"{{{HL7}}}pertinentInformation", f"{{{HL7}}}id"
CHILD = f"{{{HL7}}}COCT_TP145101GB01.Child"
UNBORN_CHILD = f"{{{HL7}}}COCT_TP145100GB01.UnbornChild"
MOTHER, PLAYED_MOTHER = f"{{{HL7}}}parentMotherPerson", f"{{{HL7}}}playedMother"
CHILD_PERSON, BIRTH_TIME = f"{{{HL7}}}childPerson", f"{{{HL7}}}birthTime"
NAME, GIVEN, FAMILY = f"{{{HL7}}}name", f"{{{HL7}}}given", f"{{{HL7}}}family"
VALUE = f"{{{HL7}}}value"


DateElements = dict[str, tuple[str, str]]  # component tag -> (date element tag, what it is)


def _dates(prefix: str) -> DateElements:
    """A plan template's start, end and delete dates, in that order."""
    return {f"{{{HL7}}}{component}": (f"{{{HL7}}}{prefix}{element}", what)
            for component, element, what in (("component", "StartDate", "start date"),
                                              ("component1", "EndDate", "end date"),
                                              ("component2", "DeleteDate", "delete date"))}


# an upload template element's local name (in any namespace) -> its plan type and dates
PLAN_TEMPLATES = {
    "COCT_TP146101GB01.CPPInformation": ("CPP", _dates("cPP")),
    "COCT_TP146100GB01.LACInformation": ("LAC", _dates("lAC")),
    "COCT_TP146102GB01.UCPInformation": ("UCP", _dates("uCP")),
}


class FileRejectedError(ValueError):
    def __init__(self, detail: str, sequence: int = -1) -> None:
        super().__init__(detail)
        self.detail = detail
        self.sequence = sequence


def parse_la_file(data: bytes, max_bytes: int = MAX_FILE_BYTES) -> LaUpload:
    try:
        root = parse_xml(data, max_bytes)
    except XmlRejectedError as error:
        raise FileRejectedError(f"the file is not acceptable XML: {error}") from None
    if etree.QName(root).namespace != HL7 or etree.QName(root).localname != "File":
        raise FileRejectedError(f"expected a File in namespace {HL7}, got {etree.QName(root).text}")
    sequence = _whole_number(attr(root, "hl7:id", "extension"), "File/id/@extension", -1, 1)
    declared = _whole_number(attr(root, "hl7:transmissionQuantity", "value"),
                             "File/transmissionQuantity/@value", sequence, 0)
    return LaUpload(
        sequence=sequence, created_at=None, local_authority=_local_authority(root, sequence),
        declared_count=declared,
        records=FileRecords(root),
    )


class FileRecords(Sequence[RecordUpload]):
    """The File's records, each read when it is asked for (again each time): a large upload
    prepared in shards reads each record in the process that applies it. A slice finds only
    its own record elements (lxml makes an element's Python object on first use, so listing
    every record of a large File up front costs before any record is read)."""

    def __init__(self, root: Element) -> None:
        self._root = root
        self._count = int(_COUNT_RECORDS(root))  # type: ignore[arg-type]
        self._elements: list[Element] | None = None

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> RecordUpload: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[RecordUpload]: ...

    def __getitem__(self, index: int | slice) -> RecordUpload | Sequence[RecordUpload]:
        if isinstance(index, slice):
            positions = range(self._count)[index]
            if positions.step != 1 or not positions:
                return [self[i] for i in positions]
            found = _elements(_RECORDS_FROM(self._root, first=positions.start,
                                             last=positions.stop))
            return [_record(el, i) for i, el in enumerate(found, start=positions.start + 1)]
        position = range(self._count)[index]  # IndexError as for a list
        if self._elements is None:
            self._elements = _elements(_RECORDS(self._root))
        return _record(self._elements[position], position + 1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FileRecords({len(self)} records)"


def _elements(found: object) -> list[Element]:
    return [el for el in found if isinstance(el, etree._Element)] if isinstance(
        found, list) else []


_RECORDS = etree.XPath("hl7:record/hl7:CP-ISRecord", namespaces=NS)
_COUNT_RECORDS = etree.XPath("count(hl7:record/hl7:CP-ISRecord)", namespaces=NS)
_RECORDS_FROM = etree.XPath(
    "(hl7:record/hl7:CP-ISRecord)[position() > $first and position() <= $last]",
    namespaces=NS)


def _whole_number(raw: str | None, where: str, sequence: int, least: int) -> int:
    """A whole number within its window (domain/limits.py); FileRejectedError otherwise."""
    if raw is None or not raw.lstrip("-").isdigit() or len(raw) > 20:
        shown = raw if raw is None or len(raw) <= 40 else raw[:40] + "..."
        raise FileRejectedError(f"{where} must be a whole number, got {shown!r}", sequence)
    try:
        check_whole_number(int(raw), where, least)
    except DomainError as error:
        raise FileRejectedError(str(error), sequence) from None
    return int(raw)


def _local_authority(root: Element, sequence: int) -> LocalAuthority:
    org = find(root, "hl7:communicationFunctionSnd/hl7:organisation")
    if org is None:
        raise FileRejectedError("the File names no sending organisation", sequence)
    phones = {t.get("use"): (t.get("value") or "").removeprefix("tel:")
              for t in org.findall("hl7:telecom", NS)}
    emergency = phones.get("EC")
    if not emergency:
        raise FileRejectedError("the sending organisation has no emergency-duty (EC) telecom",
                           sequence)
    try:
        name = text(org, "hl7:name") or ""
        check_text(name, "the local authority's name")
        return LocalAuthority(attr(org, "hl7:id", "extension") or "", name,
                              phones.get("WP") or emergency, emergency)
    except DomainError as error:
        raise FileRejectedError(str(error), sequence) from None


def _record(el: Element, index: int) -> RecordUpload:
    """One CP-ISRecord, read in one walk over its elements rather than a find per field,
    which costs several times as much on a large upload."""
    location = f"/File/record[{index}]/CP-ISRecord"
    subjects: list[Element] = []
    infos: list[Element] = []
    for child in el:
        tag = child.tag  # lxml builds the tag string again on each read
        if tag == SUBJECT:
            subjects.append(child)
        elif tag == PERTINENT:
            infos.append(child)
    subject, problem = _subject(subjects, location)
    plans: list[PlanUpload] = []
    for j, info in enumerate(infos, start=1):
        where = f"{location}/pertinentInformation[{j}]"
        try:
            plans.append(_plan(info, where))
        except ValueError as error:
            return RecordUpload(index, location, tuple(plans), subject, str(error), where)
    return RecordUpload(index, location, tuple(plans), subject, problem, subject.location)


def _plan(info: Element, where: str) -> PlanUpload:
    for child in info:
        tag = child.tag
        name = tag[tag.rfind("}") + 1:] if isinstance(tag, str) else ""
        if name in PLAN_TEMPLATES:
            code, dates = PLAN_TEMPLATES[name]
            found = _date_values(child, dates)
            start, end, delete = (plan_date(found.get(component), f"{code} {what}")
                                  for component, (_, what) in dates.items())
            return PlanUpload(code, start, end, delete, where)
    raise ValueError("pertinentInformation holds no CPP, LAC or UCP plan")


def _date_values(template: Element, dates: DateElements) -> dict[str, str | None]:
    """Component tag -> the value of its date: the first component/date/value in document
    order, read in one pass over the template's children."""
    found: dict[str, str | None] = {}
    for component in template:
        tag = component.tag
        if tag in dates and tag not in found:
            date_tag = dates[tag][0]
            for date_element in component:
                if date_element.tag == date_tag:
                    value = _first_child(date_element, VALUE)
                    if value is not None:
                        found[tag] = _value(value)
                        break
    return found


def _subject(subjects: list[Element], location: str) -> tuple[SubjectUpload, str]:
    """The subject as sent, and what could not be read of it ("" when all was read): the
    first Child of the record's subjects, else the first UnbornChild's mother."""
    child: Element | None = None
    mother: Element | None = None
    for subject in subjects:
        for held in subject:
            tag = held.tag
            if tag == CHILD and child is None:
                child = held
            elif tag == UNBORN_CHILD and mother is None:
                mother = _first_child(held, MOTHER)
    ids: list[Element] = []
    person: Element | None = None
    if child is not None:
        for part in child:
            tag = part.tag
            if tag == ID:
                ids.append(part)
            elif tag == CHILD_PERSON and person is None:
                person = part
        where = f"{location}/subject/COCT_TP145101GB01.Child"
    elif mother is not None:
        person = mother
        ids = [i for played in mother if played.tag == PLAYED_MOTHER
               for i in played if i.tag == ID]
        where = f"{location}/subject/COCT_TP145100GB01.UnbornChild"
    else:
        return SubjectUpload("", "", "", location=f"{location}/subject"), \
            "the record has no Child or UnbornChild subject"
    by_root = {i.get("root"): (i.get("extension") or "").strip() for i in ids}
    person_read, problem = _person(person)
    return SubjectUpload(
        nhs_number=by_root.get(NHS_ROOT, ""), given_name=person_read[0],
        family_name=person_read[1], birth_date=person_read[2],
        local_id=by_root.get(LOCAL_ROOT) or None, location=where,
    ), problem


def _person(person: Element | None) -> tuple[tuple[str, str, date | None], str]:
    """(given name, family name, birth date) of the person, in one pass over its children,
    and what could not be read ("" when all was read)."""
    birth_time: Element | None = None
    given: Element | None = None
    family: Element | None = None
    for part in () if person is None else person:
        tag = part.tag
        if tag == BIRTH_TIME:
            birth_time = birth_time if birth_time is not None else part
        elif tag == NAME and (given is None or family is None):
            for name_part in part:
                name_tag = name_part.tag
                if name_tag == GIVEN and given is None:
                    given = name_part
                elif name_tag == FAMILY and family is None:
                    family = name_part
    try:
        born, problem = birth_date(_value(birth_time)), ""
    except ValueError as error:
        born, problem = None, str(error)
    return (_text(given), _text(family), born), problem


def _first_child(el: Element, tag: str) -> Element | None:
    for child in el:
        if child.tag == tag:
            return child
    return None


def _value(el: Element | None) -> str | None:
    """The element's `value` attribute, stripped; None when absent or blank."""
    return None if el is None else (el.get("value") or "").strip() or None


def _text(el: Element | None) -> str:
    """The element's own leading text, stripped ("" when none)."""
    return "" if el is None else (el.text or "").strip()
