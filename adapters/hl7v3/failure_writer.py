"""Build QUQI_IN010000UK14 Query Act Failed, NF: no record found for the NHS number.

Spine has no CP-IS "no record" template, and REPC_IN000007GB01 needs at least one record, so
an OK answer with none would break NHS's own schema; NF ("No data found") is in Spine's
query-response vocabulary, and this message validates (docs/hl7v3.md).
"""

from __future__ import annotations

from datetime import datetime

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import (
    MESSAGE,
    E,
    Element,
    control_act_author,
    devices,
    ii,
    message_header,
)
from adapters.hl7v3.errors import Hl7Error
from adapters.hl7v3.timestamps import format_creation_time


def no_records_message(error: Hl7Error, now: datetime, request_id: str | None, to_asid: str,
                       cpis_asid: str, message_id: str) -> Element:
    """The whole QUQI_IN010000UK14 interaction for a "no records" answer."""
    def code() -> Element:
        return E.code(code=error.code, codeSystem=v.ERROR_SYSTEM, displayName=error.message)

    return MESSAGE(v.QUERY_ACT_FAILED,
        *message_header(v.QUERY_ACT_FAILED, message_id, format_creation_time(now)),
        E.acknowledgement(
            E.acknowledgementDetail(code(), typeCode="ER"),
            E.messageRef(ii(request_id or message_id)),
            typeCode="AE"),
        *devices(to_asid, cpis_asid),
        E.ControlActEvent(
            control_act_author(cpis_asid),
            E.reason(E.justifyingDetectedIssueEvent(
                code(), classCode="ALRT", moodCode="EVN"), typeCode="RSON"),
            E.queryAck(E.queryResponseCode(code="NF"), type="QueryAck"),
            classCode="CACT", moodCode="EVN"))
