"""Build QUQI_IN010000UK14 Query Act Failed: no records found (NF) or an error (ID)."""

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
from adapters.hl7v3.response_writer import IdFactory, new_id
from adapters.hl7v3.timestamps import format_ts


def failure_message(error: Hl7Error, now: datetime, request_id: str | None, to_asid: str,
                    cpis_asid: str, ids: IdFactory = new_id) -> Element:
    """The whole QUQI_IN010000UK14 interaction for `error`."""
    def code() -> Element:
        return E.code(code=error.code, codeSystem=v.ERROR_SYSTEM, displayName=error.message)

    response_code = "NF" if error.code == "NO_RECORDS_FOUND" else "ID"
    return MESSAGE(v.QUERY_ACT_FAILED,
        *message_header(v.QUERY_ACT_FAILED, ids(), format_ts(now)),
        E.acknowledgement(
            E.acknowledgementDetail(code(), typeCode="ER"),
            E.messageRef(ii(request_id or ids())),
            typeCode="AE"),
        *devices(to_asid, cpis_asid),
        E.ControlActEvent(
            control_act_author(cpis_asid),
            E.reason(E.justifyingDetectedIssueEvent(
                code(), classCode="ALRT", moodCode="EVN"), typeCode="RSON"),
            E.queryAck(E.queryResponseCode(code=response_code)),
            classCode="CACT", moodCode="EVN"))
