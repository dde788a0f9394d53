"""The ITK Spine Mini Service route: a CP-IS query in an ITK DistributionEnvelope
(interaction urn:nhs-itk:interaction:CP-ISNHSQuery-v1-0), as many care-setting systems send
it, answered SMSP-CP-ISNHSQueryResponse-v1-0 with an SMSP response code.

The payload is the same QUPC_IN000006GB01 interaction as on the native route: it passes the
same checks, authorisation and recording. Every answer is HTTP 200, as NHS's ITK simulator
answers; the response code says what happened (CODES).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import MESSAGE, E, Element, ii, to_bytes, value
from adapters.hl7v3.errors import Hl7Error, invalid_message
from adapters.hl7v3.query_parser import ParsedQuery, Sent
from adapters.hl7v3.replies import Reply, Writing, failure_outcome
from adapters.hl7v3.response_writer import query_response
from adapters.hl7v3.timestamps import format_response_time
from domain.application.answers import QueryAnswer

ITK = "urn:nhs-itk:ns:201005"
QUERY_INTERACTION = "urn:nhs-itk:interaction:CP-ISNHSQuery-v1-0"
RESPONSE_INTERACTION = "urn:nhs-itk:interaction:SMSP-CP-ISNHSQueryResponse-v1-0"
RESPONSE_PROFILE = "urn:nhs-en:profile:SMSP-CP-ISNHSQueryResponse-v1-0"
RESPONSE_SERVICE = "urn:nhs-itk:services:201005:sendRecvDistEnvelopeResponse"
INTERACTION_KEY = "urn:nhs-itk:ns:201005:interaction"
ADDRESS_TYPE = "2.16.840.1.113883.2.1.3.2.4.18.22"
IDENTITY_TYPE = "2.16.840.1.113883.2.1.3.2.4.18.27"
ODS_ADDRESS, ODS_IDENTITY = "urn:nhs-uk:addressing:ods:", "urn:nhs-uk:identity:ods:"
CPIS_ODS = "CPIS"  # CP-IS's own ODS address in ITK answers (the real one is not public)
SMSP_CODES = "2.16.840.1.113883.2.1.3.2.4.17.499"
SUCCESS = ("SMSP-0000", "Success")
NO_MATCH = ("CPIS-0001", "No Match (NRF)")
INVALID = ("SMSP-0001", "Input message validation error")
CREDENTIALS = ("SMSP-0005", "Author Credentials Error")
SERVICE_ERROR = ("CPIS-9999", "CP-IS Spine Service Error")
CODES = {"NO_RECORDS_FOUND": NO_MATCH, "ACCESS_DENIED": CREDENTIALS,
         "INTERNAL_ERROR": SERVICE_ERROR}  # any other refusal: INVALID


def is_distribution_envelope(root: Element) -> bool:
    return etree.QName(root) == etree.QName(ITK, "DistributionEnvelope")


@dataclass(frozen=True)
class ItkRequest:
    sender_address: str | None  # the requester's ODS address, to answer to
    in_soap: bool = False  # came in a SOAP Body: answered in one


def itk_request(envelope: Element, in_soap: bool) -> ItkRequest:
    """Whom to answer (read without judging the request, so even a refusal reaches it)."""
    sender = envelope.find(f"{{{ITK}}}header/{{{ITK}}}senderAddress")
    uri = sender.get("uri", "") if sender is not None else ""
    return ItkRequest(uri[:200] if uri.startswith(ODS_ADDRESS) else None, in_soap)


def itk_payload(envelope: Element) -> Element:
    """The query in the first payload; Hl7Error where it is not a CP-IS query."""
    spec = envelope.find(f"{{{ITK}}}header/{{{ITK}}}handlingSpecification/"
                         f"{{{ITK}}}spec[@key='{INTERACTION_KEY}']")
    interaction = spec.get("value") if spec is not None else None
    if interaction != QUERY_INTERACTION:
        raise invalid_message(f"the ITK interaction must be {QUERY_INTERACTION}, got "
                              f"{(interaction or '(none)')[:100]}")
    payload = envelope.find(f"{{{ITK}}}payloads/{{{ITK}}}payload")
    children = [c for c in payload if isinstance(c.tag, str)] if payload is not None else []
    if len(children) != 1:
        raise invalid_message("the ITK payload must hold one CP-IS query")
    return children[0]


@dataclass(frozen=True)
class ItkReplies:
    writing: Writing
    request: ItkRequest

    def answered(self, answer: QueryAnswer, parsed: ParsedQuery, sent: Sent,
                 outcome: str) -> Reply:
        payload = query_response(answer, self.writing.clock(), self.writing.ids,
                                 root=MESSAGE)
        payload.insert(2, _code(SUCCESS))  # after effectiveTime and id
        return Reply(200, self._written(payload, sent), outcome, sent)

    def failed(self, error: Hl7Error, sent: Sent) -> Reply:
        code = CODES.get(error.code, INVALID)
        w = self.writing
        payload = MESSAGE("CP-ISNHSQueryResponse",
            E.effectiveTime(value=format_response_time(w.clock())), ii(w.ids()), _code(code),
            E.pertinentInformation11(E.pertinentTotalReturnedAccessRecords(value(0))),
            E.pertinentInformation12(E.pertinentTotalReturnedChildRecords(value(0))))
        return Reply(200, self._written(payload, sent), failure_outcome(error), sent)

    def _written(self, payload: Element, sent: Sent) -> bytes:
        envelope = self._envelope(payload, sent)
        if not self.request.in_soap:
            return to_bytes(envelope)
        soap = etree.Element(f"{{{v.SOAP}}}Envelope", nsmap={"soap": v.SOAP})
        etree.SubElement(soap, f"{{{v.SOAP}}}Body").append(envelope)
        return to_bytes(soap)

    def _envelope(self, payload: Element, sent: Sent) -> Element:
        i = f"{{{ITK}}}"
        payload_id = f"uuid_{self.writing.ids()}"
        requester = self.request.sender_address or ODS_ADDRESS + (
            sent.organisation_ods or "UNKNOWN")
        envelope = etree.Element(f"{i}DistributionEnvelope", nsmap={"itk": ITK})
        header = etree.SubElement(envelope, f"{i}header", service=RESPONSE_SERVICE,
                                  trackingid=self.writing.ids())
        etree.SubElement(etree.SubElement(header, f"{i}addresslist"), f"{i}address",
                         type=ADDRESS_TYPE, uri=requester)
        etree.SubElement(etree.SubElement(header, f"{i}auditIdentity"), f"{i}id",
                         type=IDENTITY_TYPE, uri=ODS_IDENTITY + CPIS_ODS)
        etree.SubElement(etree.SubElement(header, f"{i}manifest", count="1"),
                         f"{i}manifestitem", mimetype="text/xml", id=payload_id,
                         profileid=RESPONSE_PROFILE)
        etree.SubElement(header, f"{i}senderAddress", type=ADDRESS_TYPE,
                         uri=ODS_ADDRESS + CPIS_ODS)
        etree.SubElement(etree.SubElement(header, f"{i}handlingSpecification"), f"{i}spec",
                         key=INTERACTION_KEY, value=RESPONSE_INTERACTION)
        payloads = etree.SubElement(envelope, f"{i}payloads", count="1")
        etree.SubElement(payloads, f"{i}payload", id=payload_id).append(payload)
        return envelope


def _code(code: tuple[str, str]) -> Element:
    return E.value(codeSystem=SMSP_CODES, code=code[0], displayName=code[1])

