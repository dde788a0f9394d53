"""The CP-IS NHS query over HTTP, independent of the web framework: bytes in, bytes out.

Every outcome is an HL7 message in a SOAP envelope: the response (200), no records found
(200, NF), a request failing Spine's checks or CP-IS's (400, every fault listed), not
authorised (403), an oversized body (413) or an internal failure (500). Never a stack
trace. Every answer and every refusal is recorded as an event (domain/application.py); the
reply says which it was, so the HTTP layer can log one line per request.

Who may ask: the caller's client certificate names an endpoint of the registry
(adapters/hl7v3/endpoints.py); without TLS (the demo and local tests only) the message's
sending ASID does. The message's sending ASID must be that endpoint's, the interaction one
it may send, the author's organisation one it acts for, and the job role on the allow-list.
A silent read is honoured only for an endpoint registered for scheduled care.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.hl7v3.elements import Element
from adapters.hl7v3.endpoints import Care, Endpoint, EndpointRegistry
from adapters.hl7v3.errors import Hl7Error, access_denied, invalid_message
from adapters.hl7v3.itk import ItkReplies, is_distribution_envelope, itk_payload, itk_request
from adapters.hl7v3.query_parser import ParsedQuery, Sent, checked_query, what_was_sent
from adapters.hl7v3.replies import Replies, Reply, SpineReplies, Writing
from adapters.hl7v3.response_writer import IdFactory, new_id
from adapters.hl7v3.safe_xml import MAX_BYTES, parse_xml
from adapters.hl7v3.soap import request_header, unwrap
from domain.application.answers import QueryAnswer
from domain.application.queries import QueryRequest
from domain.model.errors import DomainError, NoRecordFoundError, QueryRefusedError
from domain.model.provenance import Channel, Provenance
from domain.model.refusals import Refusal, RefusalReason

log = logging.getLogger(__name__)
# HL7 error code -> the refusal reason it is recorded under
REFUSALS = {
    "ACCESS_DENIED": RefusalReason.NOT_AUTHORISED,
    RefusalReason.OUT_OF_RANGE.name: RefusalReason.OUT_OF_RANGE,
    RefusalReason.EVENT_ID_REUSED.name: RefusalReason.EVENT_ID_REUSED,
}


class AnswersQueries(Protocol):
    def query(self, request: QueryRequest) -> QueryAnswer: ...

    def record_refusal(self, nhs_number_sent: str | None, refusal: Refusal,
                       provenance: Provenance) -> None: ...


@dataclass(frozen=True)
class Caller:
    """Who is on the other end: the subject CN of its verified client certificate (None
    without TLS), and its IsUnscheduledAccessEvent header."""

    certificate: str | None = None
    unscheduled_header: str | None = None


class Hl7QueryService:
    def __init__(self, app: AnswersQueries, cpis_asid: str, clock: Callable[[], datetime],
                 endpoints: EndpointRegistry, max_bytes: int = MAX_BYTES,
                 ids: IdFactory = new_id) -> None:
        self.app = app
        self.clock = clock
        self.writing = Writing(cpis_asid, clock, ids)
        self.endpoints = endpoints
        self.max_bytes = max_bytes

    def handle(self, body: bytes, caller: Caller | None = None) -> Reply:
        """Answer one request from `caller`, by the channel it came by."""
        caller = caller or Caller()
        sent = Sent()
        replies: Replies = SpineReplies(self.writing)
        try:
            root = parse_xml(body, self.max_bytes)
            envelope = unwrap(root)
            replies = self._replies(root, envelope)
            message = itk_payload(envelope) if isinstance(replies, ItkReplies) else envelope
            sent = what_was_sent(message)
            parsed = checked_query(message)
            endpoint = self._authorised(parsed, caller)
            silent = endpoint.care is Care.SCHEDULED and (
                parsed.silent or _is_false(caller.unscheduled_header))
            answer = self.app.query(_request(parsed, silent, sent))
            return replies.answered(answer, parsed, sent,
                                    "silent read" if silent else "answered")
        except Hl7Error as error:
            self._record_refusal(error, sent)
            return replies.failed(error, sent)
        except QueryRefusedError as error:  # recorded by the application
            return replies.failed(Hl7Error(RefusalReason(error.reason).name, error.detail), sent)
        except NoRecordFoundError as error:
            return replies.failed(Hl7Error("NO_RECORDS_FOUND", str(error), 200), sent)
        except DomainError as error:
            failure = invalid_message(str(error))
            self._record_refusal(failure, sent)
            return replies.failed(failure, sent)
        except Exception:
            log.exception("internal error answering message %s", sent.message_id)
            return replies.failed(Hl7Error("INTERNAL_ERROR", "CP-IS could not answer the "
                                           "query; try again", 500), sent)

    def _replies(self, root: Element, envelope: Element) -> Replies:
        """The channel the request came by: ITK (a DistributionEnvelope, bare or in a SOAP
        Body), else the native Spine route (a SOAP envelope or a bare message)."""
        if is_distribution_envelope(envelope):
            return ItkReplies(self.writing, itk_request(envelope, envelope is not root))
        return SpineReplies(self.writing, request_header(root))

    def _authorised(self, parsed: ParsedQuery, caller: Caller) -> Endpoint:
        """The caller's registered endpoint, where it may send this query; else
        ACCESS_DENIED naming the first rule broken."""
        if caller.certificate is not None:
            endpoint = self.endpoints.by_certificate(caller.certificate)
            if endpoint is None:
                raise access_denied(f"client certificate {caller.certificate!r} is not "
                                    "registered for CP-IS")
            if endpoint.asid != parsed.sender_asid:
                raise access_denied(f"the sending ASID {parsed.sender_asid} is not the ASID "
                                    "of the client certificate")
        else:
            endpoint = self.endpoints.by_asid(parsed.sender_asid)
            if endpoint is None:
                raise access_denied(f"ASID {parsed.sender_asid} is not registered for CP-IS")
        if parsed.interaction not in endpoint.interactions:
            raise access_denied(f"ASID {endpoint.asid} may not send {parsed.interaction}")
        if parsed.author.organisation_ods not in endpoint.organisations:
            raise access_denied(f"ASID {endpoint.asid} may not act for organisation "
                                f"{parsed.author.organisation_ods}")
        if parsed.job_role not in self.endpoints.job_roles:
            raise access_denied(f"job role {parsed.job_role or '(none)'} may not query CP-IS")
        return endpoint

    def _record_refusal(self, error: Hl7Error, sent: Sent) -> None:
        """Record a refused request, with what it said of itself."""
        reason = REFUSALS.get(error.code, RefusalReason.MALFORMED)
        refusal = Refusal(reason, error.message, self.clock(), sent.event_id,
                          organisation_ods=sent.organisation_ods)
        self.app.record_refusal(sent.nhs_number, refusal, _provenance(sent))


def _request(parsed: ParsedQuery, silent: bool, sent: Sent) -> QueryRequest:
    return QueryRequest(nhs_number=parsed.nhs_number, author=parsed.author,
                        accessed_at=parsed.effective_time, access_id=parsed.event_id,
                        provenance=_provenance(sent), silent=silent)


def _provenance(sent: Sent) -> Provenance:
    return Provenance(Channel.HL7V3, sent.message_id, asid=sent.sender_asid)


def _is_false(header: str | None) -> bool:
    return header is not None and header.strip().lower() == "false"
