"""HL7 errors answered to the caller as an HL7 message (detected issues, or no records
found), never a stack trace."""

from __future__ import annotations

from adapters.hl7v3.spine_checks import Fault


class Hl7Error(Exception):
    """A request CP-IS will not answer with data. `code` names the reason; `faults` are what
    the answer lists (by default, one of CP-IS's own: CPIS.<code>)."""

    def __init__(self, code: str, message: str, http_status: int = 400,
                 faults: tuple[Fault, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.faults = faults or (Fault(f"CPIS.{code}", message),)


# a failure of CP-IS's own checks that only repeats what a Spine check found missing
REPEATS_SPINE = ("MANDATORY_DATA_MISSING", "ACCESS_DENIED")


def with_spine_faults(spine: list[Fault], own: Hl7Error | None) -> Hl7Error:
    """One error listing the faults found (Spine's first), then CP-IS's failure `own` where
    it adds one."""
    faults = [*spine]
    if own is not None and own.code not in REPEATS_SPINE:
        faults += [fault for fault in own.faults if fault not in faults]
    detail = "; ".join(f.line for f in faults)
    return Hl7Error(spine[0].name.rsplit(".", 1)[-1], f"Spine checks failed: {detail}",
                    faults=tuple(faults))


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
