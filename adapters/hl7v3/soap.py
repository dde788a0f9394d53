"""SOAP envelopes around the HL7 V3 messages (SOAP 1.1 or 1.2 in; SOAP 1.1 out), with the
header Spine writes: WS-Addressing of 2004/08, RelatesTo the request's wsa:MessageID, To and
From, and the HL7 communication functions naming the requester and CP-IS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from lxml import etree

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import Element, declaring, devices
from adapters.hl7v3.errors import invalid_message

SOAP_NAMESPACES = (v.SOAP, "http://www.w3.org/2003/05/soap-envelope")
# requests may use either WS-Addressing namespace; answers use Spine's (2004/08)
WSA_NAMESPACES = (v.WSA, "http://www.w3.org/2005/08/addressing")
_DEFAULT_HL7 = cast(dict[str, str], {None: v.HL7})  # its None key is not in the stubs


@dataclass(frozen=True)
class RequestHeader:
    """What the request's SOAP header says of it: its wsa:MessageID (without `uuid:`) and
    its wsa:From address."""

    message_id: str | None = None
    from_address: str | None = None


@dataclass(frozen=True)
class Addressing:
    """Whom an answer goes to and what it answers."""

    relates_to: str | None  # the request's MessageID (or its HL7 id), without `uuid:`
    to_address: str | None
    to_asid: str
    from_asid: str


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


def request_header(root: Element) -> RequestHeader:
    name = etree.QName(root)
    if name.namespace not in SOAP_NAMESPACES:
        return RequestHeader()
    header = root.find(f"{{{name.namespace}}}Header")
    if header is None:
        return RequestHeader()
    found: dict[str, str] = {}
    for wsa in WSA_NAMESPACES:
        for key, path in (("id", "MessageID"), ("from", "From/{ns}Address")):
            el = header.find(f"{{{wsa}}}" + path.format(ns=f"{{{wsa}}}"))
            if el is not None and el.text and el.text.strip():
                found.setdefault(key, el.text.strip()[:200])
    message_id = found.get("id")
    if message_id is not None and message_id.lower().startswith("uuid:"):
        message_id = message_id[5:]
    return RequestHeader(message_id, found.get("from"))


def _declaring_hl7(element: Element) -> Element:
    """The element declaring the HL7 namespace as its default (in the SOAP header, where no
    ancestor does), so it is written without a made-up prefix."""
    declared = etree.Element(element.tag, nsmap=_DEFAULT_HL7)
    declared.attrib.update(element.attrib)
    declared.extend(list(element))
    return declared


def wrap(message: Element, interaction: str, addressing: Addressing, message_id: str,
         body_wrapper: str | None = None) -> Element:
    """The answer's envelope; `body_wrapper` names an element around the message in the
    Body (Spine's CP-ISNHSQueryResponse around a response)."""
    soap, wsa = f"{{{v.SOAP}}}", f"{{{v.WSA}}}"
    envelope = etree.Element(f"{soap}Envelope", nsmap={"soap": v.SOAP, "wsa": v.WSA})
    header = etree.SubElement(envelope, f"{soap}Header")
    etree.SubElement(header, f"{wsa}MessageID").text = f"uuid:{message_id}"
    etree.SubElement(header, f"{wsa}Action").text = f"{v.SOAP_ACTION_PREFIX}{interaction}"
    etree.SubElement(header, f"{wsa}To").text = addressing.to_address or ""
    etree.SubElement(etree.SubElement(header, f"{wsa}From"), f"{wsa}Address").text = \
        v.CPIS_ADDRESS
    for device in devices(addressing.to_asid, addressing.from_asid):
        header.append(_declaring_hl7(device))
    if addressing.relates_to:
        etree.SubElement(header, f"{wsa}RelatesTo").text = f"uuid:{addressing.relates_to}"
    body = etree.SubElement(envelope, f"{soap}Body")
    if body_wrapper is not None:
        outer = etree.SubElement(body, f"{{{v.HL7}}}{body_wrapper}",
                                 nsmap=cast(dict[str, str], v.NSMAP))
        outer.append(declaring(message))
    else:
        body.append(declaring(message))
    return envelope
