"""A hardened lxml parser: no DTDs, no entities, no network, bounded size and depth.

Rejects before parsing anything over `max_bytes`, and after parsing any document that
declared a DOCTYPE (the carrier of entity-expansion and external-entity attacks).
"""

from __future__ import annotations

from lxml import etree

from adapters.hl7v3.errors import Hl7Error

MAX_BYTES = 1_000_000  # a CP-IS query is a few kilobytes


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )


def parse_xml(data: bytes, max_bytes: int = MAX_BYTES) -> etree._Element:
    if len(data) > max_bytes:
        raise Hl7Error("MESSAGE_TOO_LARGE",
                       f"Message of {len(data)} bytes is over the limit of {max_bytes}",
                       http_status=413)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Hl7Error("INVALID_MESSAGE", "Invalid message: DOCTYPE and entity declarations "
                       "are not allowed")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise Hl7Error("INVALID_MESSAGE", f"Invalid message: not well-formed XML ({error})"
                       ) from None
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise Hl7Error("INVALID_MESSAGE", "Invalid message: DOCTYPE is not allowed")
    return root
