"""The hardened parser, with its refusals as HL7 errors."""

from __future__ import annotations

from lxml import etree

from adapters.hl7v3.errors import Hl7Error
from adapters.safe_xml import XmlRejectedError
from adapters.safe_xml import parse_xml as parse_safely

MAX_BYTES = 1_000_000  # a CP-IS query is a few kilobytes


def parse_xml(data: bytes, max_bytes: int = MAX_BYTES) -> etree._Element:
    try:
        return parse_safely(data, max_bytes)
    except XmlRejectedError as error:
        if error.too_large:
            raise Hl7Error("MESSAGE_TOO_LARGE", f"Message of {error}", http_status=413) from None
        raise Hl7Error("INVALID_MESSAGE", f"Invalid message: {error}") from None
