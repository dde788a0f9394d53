"""Read a local authority's upload `File` (REPC_MT000002GB01) into a LaUpload.

File-level faults (not XML, not a File, no sequence number, count or LA details) raise
FileRejectedError, answered with CPF01. Record-level faults become the record's `problem`, so the
rest of the file still counts.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from adapters.mesh.xml_values import HL7, NS, Element, attr, birth_date, find, plan_date, text
from adapters.safe_xml import XmlRejectedError, parse_xml
from domain.errors import DomainError
from domain.local_authority import LocalAuthority
from domain.uploads import LaUpload, PlanUpload, RecordUpload, SubjectUpload

MAX_FILE_BYTES = 200_000_000
NHS_ROOT = "2.16.840.1.113883.2.1.4.1"
LOCAL_ROOT = "2.16.840.1.113883.2.1.3.2.4.18.24"
PLAN_TEMPLATES = {  # upload template element -> (plan type, date element prefix)
    "COCT_TP146101GB01.CPPInformation": ("CPP", "cPP"),
    "COCT_TP146100GB01.LACInformation": ("LAC", "lAC"),
    "COCT_TP146102GB01.UCPInformation": ("UCP", "uCP"),
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
    sequence = _whole_number(attr(root, "hl7:id", "extension"), "File/id/@extension", -1)
    declared = _whole_number(attr(root, "hl7:transmissionQuantity", "value"),
                             "File/transmissionQuantity/@value", sequence)
    records = root.findall("hl7:record/hl7:CP-ISRecord", NS)
    return LaUpload(
        sequence=sequence, created_at=None, local_authority=_local_authority(root, sequence),
        declared_count=declared,
        records=tuple(_record(r, i) for i, r in enumerate(records, start=1)),
    )


def _whole_number(raw: str | None, where: str, sequence: int) -> int:
    if raw is None or not raw.lstrip("-").isdigit():
        raise FileRejectedError(f"{where} must be a whole number, got {raw!r}", sequence)
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
        return LocalAuthority(attr(org, "hl7:id", "extension") or "", text(org, "hl7:name") or "",
                              phones.get("WP") or emergency, emergency)
    except DomainError as error:
        raise FileRejectedError(str(error), sequence) from None


def _record(el: Element, index: int) -> RecordUpload:
    location = f"/File/record[{index}]/CP-ISRecord"
    subject, problem = _subject(el, location)
    plans: list[PlanUpload] = []
    for j, info in enumerate(el.findall("hl7:pertinentInformation", NS), start=1):
        where = f"{location}/pertinentInformation[{j}]"
        try:
            plans.append(_plan(info, where))
        except ValueError as error:
            return RecordUpload(index, location, tuple(plans), subject, str(error), where)
    return RecordUpload(index, location, tuple(plans), subject, problem, subject.location)


def _plan(info: Element, where: str) -> PlanUpload:
    for child in info:
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if name in PLAN_TEMPLATES:
            code, prefix = PLAN_TEMPLATES[name]

            def when(path: str, what: str, plan: Element = child, kind: str = code
                     ) -> datetime | None:
                return plan_date(attr(plan, f"{path}/hl7:value", "value"), f"{kind} {what}")

            return PlanUpload(
                code, when(f"hl7:component/hl7:{prefix}StartDate", "start date"),
                when(f"hl7:component1/hl7:{prefix}EndDate", "end date"),
                when(f"hl7:component2/hl7:{prefix}DeleteDate", "delete date"), where)
    raise ValueError("pertinentInformation holds no CPP, LAC or UCP plan")


def _subject(el: Element, location: str) -> tuple[SubjectUpload, str]:
    """The subject as sent, and what could not be read of it ("" when all was read)."""
    child = find(el, "hl7:subject/hl7:COCT_TP145101GB01.Child")
    mother = find(el, "hl7:subject/hl7:COCT_TP145100GB01.UnbornChild/hl7:parentMotherPerson")
    if child is not None:
        person = find(child, "hl7:childPerson")
        ids, where = child.findall("hl7:id", NS), f"{location}/subject/COCT_TP145101GB01.Child"
    elif mother is not None:
        person, ids = mother, mother.findall("hl7:playedMother/hl7:id", NS)
        where = f"{location}/subject/COCT_TP145100GB01.UnbornChild"
    else:
        return SubjectUpload("", "", "", location=f"{location}/subject"), \
            "the record has no Child or UnbornChild subject"
    by_root = {i.get("root"): (i.get("extension") or "").strip() for i in ids}
    problem = ""
    try:
        born = birth_date(attr(person, "hl7:birthTime", "value") if person is not None else None)
    except ValueError as error:
        born, problem = None, str(error)
    return SubjectUpload(
        nhs_number=by_root.get(NHS_ROOT, ""),
        given_name=(text(person, "hl7:name/hl7:given") if person is not None else None) or "",
        family_name=(text(person, "hl7:name/hl7:family") if person is not None else None) or "",
        birth_date=born, local_id=by_root.get(LOCAL_ROOT) or None, location=where,
    ), problem
