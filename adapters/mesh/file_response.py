"""Build the FileResponse (REPC_MT000003GB01) CP-IS returns to a local authority."""

from __future__ import annotations

from datetime import datetime

from adapters.hl7v3.elements import MESSAGE, E, Element, local_authority, value
from adapters.hl7v3.timestamps import format_ts
from domain.model.local_authority import LocalAuthority
from domain.model.uploads import RecordCode, UploadOutcome

RECORD_CODE_SYSTEM = "2.16.840.1.113883.2.1.3.2.4.17.473"
PLACEHOLDER_PHONE = "0"  # the LA's phones are unknown when its file could not be read


def unknown_local_authority(ods_code: str) -> LocalAuthority:
    return LocalAuthority(ods_code, f"Local authority {ods_code}", PLACEHOLDER_PHONE * 6,
                          PLACEHOLDER_PHONE * 6)


def record_detail(code: RecordCode, location: str, detail: str = "") -> Element:
    """The record's code, with what was wrong as the code's original text where known."""
    coded = E.code(code=code.name, codeSystem=RECORD_CODE_SYSTEM, displayName=code.value)
    if detail:
        coded.append(E.originalText(detail))
    return E.acknowledgementRecordDetail(coded, E.location(location))


def record_details(outcome: UploadOutcome) -> list[Element]:
    """Each record's code. A file refused as a whole says why in one detail of its own (the
    schema lets the file's code carry no text): CPR07 at /File, the reason as original
    text."""
    if outcome.records:
        return [record_detail(r.code, r.location, r.detail) for r in outcome.records]
    if outcome.detail:
        return [record_detail(RecordCode.CPR07, "/File", outcome.detail)]
    return []


def file_response(outcome: UploadOutcome, la: LocalAuthority, now: datetime) -> Element:
    """`transmissionQuantity` is the number of records processed (-1 for a file error)."""
    processed = len(outcome.records) if outcome.records else -1
    parts = [
        E.creationTime(value=format_ts(now)),
        E.id(extension=str(outcome.sequence)),
        E.transmissionQuantity(value=str(processed)),
        E.acknowledgementFile(E.acknowledgementFileDetail(E.code(
            code=outcome.file_code.name, displayName=outcome.file_code.value))),
    ]
    details = record_details(outcome)
    if details:
        parts.append(E.acknowledgementRecord(*details))
    parts += [
        E.communicationFunctionRcv(local_authority(la)),
        E("failedReturnedCP-ISRecords", value(outcome.failed)),
        E("successfulReturnedCP-ISRecords", value(outcome.successful)),
    ]
    return MESSAGE.FileResponse(*parts)

