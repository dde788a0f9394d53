"""A hardened lxml parser: no DTDs, no entities, no network, bounded size and depth.

Rejects before parsing anything over `max_bytes`, and after parsing any document that
declared a DOCTYPE (the carrier of entity-expansion and external-entity attacks).
"""

from __future__ import annotations

from lxml import etree


class XmlRejectedError(ValueError):
    """Input that is not safe, well-formed XML; `too_large` when refused for its size."""

    def __init__(self, reason: str, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )


def parse_xml(data: bytes, max_bytes: int) -> etree._Element:
    if len(data) > max_bytes:
        raise XmlRejectedError(f"{len(data)} bytes is over the limit of {max_bytes}",
                               too_large=True)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XmlRejectedError("DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise XmlRejectedError(f"not well-formed XML ({error})") from None
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise XmlRejectedError("DOCTYPE is not allowed")
    return root
