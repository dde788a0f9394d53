"""The CP-IS NHS query over HTTP, independent of the web framework: bytes in, bytes out.

Every outcome is an HL7 message in a SOAP envelope: the response (200), no records found
(200, NF), a malformed or incomplete request (400), access denied (403, and logged), an
oversized body (413) or an internal failure (500). Never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lxml import etree

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import Element, to_bytes
from adapters.hl7v3.errors import Hl7Error, invalid_message, no_records_found
from adapters.hl7v3.failure_writer import failure_message
from adapters.hl7v3.query_parser import NS, ParsedQuery, parse_query
from adapters.hl7v3.response_writer import IdFactory, new_id, response_message
from adapters.hl7v3.safe_xml import MAX_BYTES, parse_xml
from adapters.hl7v3.soap import unwrap, wrap
from domain.application import QueryRequest
from domain.errors import DomainError, NoRecordFoundError
from domain.provenance import Channel, Provenance
from domain.views import QueryAnswer

log = logging.getLogger(__name__)
UNKNOWN_ASID = "000000000000"


class AnswersQueries(Protocol):
    def query(self, request: QueryRequest) -> QueryAnswer: ...


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"


@dataclass
class _Context:
    """What is known of the request so far, to address an error reply."""

    message_id: str | None = None
    sender_asid: str = UNKNOWN_ASID


class Hl7QueryService:
    def __init__(self, app: AnswersQueries, cpis_asid: str, clock: Callable[[], datetime],
                 max_bytes: int = MAX_BYTES, ids: IdFactory = new_id) -> None:
        self.app = app
        self.ids = ids
        self.cpis_asid = cpis_asid
        self.clock = clock
        self.max_bytes = max_bytes

    def handle(self, body: bytes, unscheduled: str | None = None) -> Reply:
        """Answer one SOAP request. `unscheduled` is the IsUnscheduledAccessEvent header."""
        context = _Context()
        try:
            message = unwrap(parse_xml(body, self.max_bytes))
            _note_addressing(message, context)
            parsed = parse_query(message)
            return self._answer(parsed, silent=parsed.silent or _is_false(unscheduled))
        except Hl7Error as error:
            if error.code == "ACCESS_DENIED":
                log.warning("access denied: message %s from ASID %s: %s", context.message_id,
                            context.sender_asid, error.message)
            return self._failure(error, context)
        except NoRecordFoundError as error:
            return self._failure(Hl7Error("NO_RECORDS_FOUND", str(error), 200), context)
        except DomainError as error:
            return self._failure(invalid_message(str(error)), context)
        except Exception:
            log.exception("internal error answering message %s", context.message_id)
            return self._failure(Hl7Error("INTERNAL_ERROR", "CP-IS could not answer the query; "
                                          "try again", 500), context)

    def _answer(self, parsed: ParsedQuery, silent: bool) -> Reply:
        request = QueryRequest(
            nhs_number=parsed.nhs_number, author=parsed.author,
            accessed_at=parsed.effective_time, access_id=parsed.event_id,
            provenance=Provenance(Channel.HL7V3, parsed.message_id, asid=parsed.sender_asid),
            silent=silent)
        try:
            answer = self.app.query(request)
        except NoRecordFoundError:
            raise no_records_found(parsed.nhs_number.value) from None
        message = response_message(answer, self.clock(), parsed.sender_asid, self.cpis_asid,
                                   self.ids)
        return self._reply(200, message, v.RESPONSE, parsed.message_id)

    def _failure(self, error: Hl7Error, context: _Context) -> Reply:
        message = failure_message(error, self.clock(), context.message_id, context.sender_asid,
                                  self.cpis_asid, self.ids)
        return self._reply(error.http_status, message, v.QUERY_ACT_FAILED, context.message_id)

    def _reply(self, status: int, message: Element, interaction: str,
               relates_to: str | None) -> Reply:
        return Reply(status, to_bytes(wrap(message, interaction, relates_to, self.ids)))


def _note_addressing(message: Element, context: _Context) -> None:
    if etree.QName(message).namespace != v.HL7:
        return
    id_el = message.find("hl7:id", NS)
    sender = message.find("hl7:communicationFunctionSnd/hl7:device/hl7:id", NS)
    context.message_id = id_el.get("root") if id_el is not None else None
    if sender is not None and (sender.get("extension") or "").isdigit():
        context.sender_asid = str(sender.get("extension"))


def _is_false(header: str | None) -> bool:
    return header is not None and header.strip().lower() == "false"
