"""HL7 errors answered to the caller as a Query Act Failed message, never a stack trace."""

from __future__ import annotations


class Hl7Error(Exception):
    """A request CP-IS will not answer with data. `code` names the reason."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def mandatory_missing(what: str) -> Hl7Error:
    return Hl7Error("MANDATORY_DATA_MISSING", f"Mandatory data missing: {what}")


def invalid_message(detail: str) -> Hl7Error:
    return Hl7Error("INVALID_MESSAGE", f"Invalid message: {detail}")


def access_denied(detail: str) -> Hl7Error:
    return Hl7Error("ACCESS_DENIED", f"Access denied: {detail}", http_status=403)


def no_records_found(nhs_number: str) -> Hl7Error:
    return Hl7Error("NO_RECORDS_FOUND", f"No Records Found for NHS number {nhs_number}",
                    http_status=200)


def out_of_range(detail: str) -> Hl7Error:
    return Hl7Error("OUT_OF_RANGE", f"Out of range: {detail}")
