"""How an answer is written back: the channel a query came by decides the envelope.

`SpineReplies`: the native Spine route (soap.py); `ItkReplies` (itk.py): the ITK Spine Mini
Service route. The query service decides what to answer; a channel only writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.detected_issue import detected_issues_message
from adapters.hl7v3.elements import to_bytes
from adapters.hl7v3.errors import Hl7Error
from adapters.hl7v3.failure_writer import no_records_message
from adapters.hl7v3.query_parser import ParsedQuery, Sent
from adapters.hl7v3.response_writer import IdFactory, response_message
from adapters.hl7v3.soap import Addressing, RequestHeader, wrap
from domain.application.answers import QueryAnswer

UNKNOWN_ASID = "000000000000"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    outcome: str  # answered | silent read | no records | refused: <reason> | error
    sent: Sent = field(default_factory=Sent)
    content_type: str = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Writing:
    """What every answer is written with: CP-IS's ASID, the clock and new ids."""

    cpis_asid: str
    clock: Callable[[], datetime]
    ids: IdFactory


def failure_outcome(error: Hl7Error) -> str:
    if error.code == "NO_RECORDS_FOUND":
        return "no records"
    return "error" if error.http_status >= 500 else f"refused: {error.code}"


class Replies(Protocol):
    def answered(self, answer: QueryAnswer, parsed: ParsedQuery, sent: Sent,
                 outcome: str) -> Reply: ...

    def failed(self, error: Hl7Error, sent: Sent) -> Reply: ...


@dataclass(frozen=True)
class SpineReplies:
    """Answers as NHS Spine writes them (docs/hl7v3.md)."""

    writing: Writing
    header: RequestHeader = field(default_factory=RequestHeader)

    def answered(self, answer: QueryAnswer, parsed: ParsedQuery, sent: Sent,
                 outcome: str) -> Reply:
        w = self.writing
        message_id = w.ids()
        message = response_message(answer, w.clock(), parsed.sender_asid, w.cpis_asid,
                                   message_id, w.ids)
        envelope = wrap(message, v.RESPONSE, self._addressing(sent), message_id,
                        body_wrapper="CP-ISNHSQueryResponse")
        return Reply(200, to_bytes(envelope), outcome, sent)

    def failed(self, error: Hl7Error, sent: Sent) -> Reply:
        """No records found: QUQI_IN010000UK14 NF (docs/hl7v3.md says why). Anything else:
        MCCI_IN010000UK13 AE listing every fault."""
        w, addressing = self.writing, self._addressing(sent)
        message_id = w.ids()
        if error.code == "NO_RECORDS_FOUND":
            message = no_records_message(error, w.clock(), sent.message_id,
                                         addressing.to_asid, w.cpis_asid, message_id)
            interaction = v.QUERY_ACT_FAILED
        else:
            message = detected_issues_message(list(error.faults), w.clock(), sent.message_id,
                                              addressing.to_asid, w.cpis_asid, message_id,
                                              w.ids)
            interaction = v.DETECTED_ISSUE
        envelope = wrap(message, interaction, addressing, message_id)
        return Reply(error.http_status, to_bytes(envelope), failure_outcome(error), sent)

    def _addressing(self, sent: Sent) -> Addressing:
        to_asid = sent.sender_asid if (sent.sender_asid or "").isdigit() else UNKNOWN_ASID
        return Addressing(self.header.message_id or sent.message_id, self.header.from_address,
                          str(to_asid), self.writing.cpis_asid)
