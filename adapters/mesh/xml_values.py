"""Reading values out of the CP-IS MESH XML (namespace urn:hl7-org:v3)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from lxml import etree

HL7 = "urn:hl7-org:v3"
NS = {"hl7": HL7}
Element = etree._Element


def find(el: Element, path: str) -> Element | None:
    found = _compiled(path)(el)
    first = found[0] if isinstance(found, list) and found else None
    return first if isinstance(first, etree._Element) else None


@lru_cache(maxsize=256)
def _compiled(path: str) -> etree.ETXPath:
    """`path` ("hl7:a/hl7:b") as compiled XPath: a large upload makes nine finds a record,
    and compiled XPath is cheaper per find than ElementPath."""
    return etree.ETXPath(path.replace("hl7:", f"{{{HL7}}}"))


def attr(el: Element, path: str, name: str) -> str | None:
    found = el if path == "." else find(el, path)
    if found is None:
        return None
    value = (found.get(name) or "").strip()
    return value or None


def text(el: Element, path: str) -> str | None:
    found = find(el, path)
    if found is None or not (found.text or "").strip():
        return None
    return (found.text or "").strip()


def plan_date(value: str | None, what: str) -> datetime | None:
    """A 12-digit YYYYMMDDHHMM plan date (None when absent); ValueError names `what`."""
    if value is None:
        return None
    if len(value) != 12 or not value.isdigit():
        raise ValueError(f"{what} {value!r} is not a 12-digit YYYYMMDDHHMM date")
    try:  # by slices: strptime was a third of an upload's parsing
        return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]),
                        int(value[10:12]))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a real date and time") from None


def birth_date(value: str | None) -> date | None:
    if value is None:
        return None
    if len(value) < 8 or not value[:8].isdigit():
        raise ValueError(f"birthTime {value!r} is not a YYYYMMDD date")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise ValueError(f"birthTime {value!r} is not a real date") from None
