"""Build MCCI_IN010000UK13 with acknowledgement AE: a query Spine's checks (or CP-IS's own)
refused, one `reason/justifyingDetectedIssueEvent` a fault, all of them (spine_checks.py).

Each fault's code is its symbolic name (`ErrorBase1712.MANDATORY_DATA_MISSING`, or
`CPIS.<reason>` for CP-IS's own checks) and its displayName the line Spine writes
(`ErrorBase1712.MANDATORY_DATA_MISSING|Organisation Code`): Spine's numeric codes and OIDs
are not public, so the code system is CP-IS's own (vocabulary.ERROR_SYSTEM).
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
from adapters.hl7v3.response_writer import IdFactory, new_id
from adapters.hl7v3.spine_checks import Fault
from adapters.hl7v3.timestamps import format_creation_time


def detected_issue(fault: Fault) -> Element:
    return E.reason(E.justifyingDetectedIssueEvent(
        E.code(code=fault.name, codeSystem=v.ERROR_SYSTEM, displayName=fault.line),
        classCode="ALRT", moodCode="EVN"), typeCode="RSON")


def detected_issues_message(faults: list[Fault], now: datetime, request_id: str | None,
                            to_asid: str, cpis_asid: str, message_id: str,
                            ids: IdFactory = new_id) -> Element:
    """The whole MCCI_IN010000UK13 interaction (no queryAck: the schema has none)."""
    return MESSAGE(v.DETECTED_ISSUE,
        *message_header(v.DETECTED_ISSUE, message_id, format_creation_time(now)),
        E.acknowledgement(E.messageRef(ii(request_id or ids())), typeCode="AE"),
        *devices(to_asid, cpis_asid),
        E.ControlActEvent(
            control_act_author(cpis_asid), *(detected_issue(f) for f in faults),
            classCode="CACT", moodCode="EVN"))
