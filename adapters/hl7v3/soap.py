"""SOAP envelopes around the HL7 V3 messages (SOAP 1.1 or 1.2 in; SOAP 1.1 out)."""

from __future__ import annotations

from lxml import etree

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import Element, declaring
from adapters.hl7v3.errors import invalid_message
from adapters.hl7v3.response_writer import IdFactory, new_id

SOAP_NAMESPACES = (v.SOAP, "http://www.w3.org/2003/05/soap-envelope")


def unwrap(root: Element) -> Element:
    """The HL7 message in the SOAP Body (a bare HL7 message is accepted as it is)."""
    name = etree.QName(root)
    if name.namespace not in SOAP_NAMESPACES:
        return root
    if name.localname != "Envelope":
        raise invalid_message(f"expected a SOAP Envelope, got {name.localname}")
    body = root.find(f"{{{name.namespace}}}Body")
    if body is None:
        raise invalid_message("the SOAP Envelope has no Body")
    children = [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise invalid_message(f"the SOAP Body must hold one message, found {len(children)}")
    return children[0]


def wrap(message: Element, interaction: str, relates_to: str | None,
         ids: IdFactory = new_id) -> Element:
    soap, wsa = f"{{{v.SOAP}}}", f"{{{v.WSA}}}"
    envelope = etree.Element(f"{soap}Envelope", nsmap={"soap": v.SOAP, "wsa": v.WSA})
    header = etree.SubElement(envelope, f"{soap}Header")
    etree.SubElement(header, f"{wsa}MessageID").text = f"uuid:{ids()}"
    etree.SubElement(header, f"{wsa}Action").text = f"{v.SOAP_ACTION_PREFIX}{interaction}"
    if relates_to:
        etree.SubElement(header, f"{wsa}RelatesTo").text = f"uuid:{relates_to}"
    etree.SubElement(envelope, f"{soap}Body").append(declaring(message))
    return envelope
