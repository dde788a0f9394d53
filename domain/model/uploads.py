"""A local authority's upload file, record by record, and the codes CP-IS answers with.

The adapter turns the MESH `File` into these plain values without judging them; the rules
(Modulus 11, PDS, plan dates, sequence, record count) are applied here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from domain.model.limits import shortened
from domain.model.local_authority import LocalAuthority


class RecordCode(Enum):
    """CP-ISUploadRecordResponse (2.16.840.1.113883.2.1.3.2.4.17.473), NHS display names."""

    CPR01 = "PDS Error - No Match Found for NHS Number"
    CPR02 = "PDS Error - NHS Number Matched, but Sensitive Record"
    CPR03 = "PDS Error - NHS Number not Verified"
    CPR04 = "PDS Error - NHS Number Format Incorrect"
    CPR05 = "PDS Error - NHS Number Verified, but Superseded"
    CPR06 = "Successful Record Upload"
    CPR07 = "Unsucessful Record Upload"  # sic: the vocabulary's own spelling


class FileCode(Enum):
    """CP-ISUploadFileResponse (2.16.840.1.113883.2.1.3.2.4.17.474), NHS display names."""

    CPF01 = "File Level Error"
    CPF02 = "Successful File Upload"
    CPF03 = "Partial File Upload"
    CPF04 = "Unsuccessful File Upload"
    CPF05 = "PDS Error - PDS Unavailable"
    CPF06 = ("Spine ii rejected the request because this version of the CPIS Client is no "
             "longer supported")


@dataclass(frozen=True)
class PlanUpload:
    """One plan of a record, as sent (not yet checked)."""

    plan_type_code: str
    start: datetime | None
    end: datetime | None = None
    delete: datetime | None = None
    location: str = ""


@dataclass(frozen=True)
class SubjectUpload:
    """The child, or the mother for an unborn child, as sent."""

    nhs_number: str
    given_name: str
    family_name: str
    birth_date: date | None = None
    local_id: str | None = None
    location: str = ""


@dataclass(frozen=True)
class RecordUpload:
    index: int  # 1-based position in the file
    location: str  # XPath of the record in the file
    plans: tuple[PlanUpload, ...]
    subject: SubjectUpload
    problem: str = ""  # what the adapter could not read (a CPR07 unless a PDS code comes first)
    problem_location: str = ""


@dataclass(frozen=True)
class LaUpload:
    sequence: int
    created_at: datetime | None
    local_authority: LocalAuthority
    declared_count: int
    records: Sequence[RecordUpload]  # the adapter may read each only when it is asked for


# records one file may hold: each record's outcome is kept in the file's UploadProcessed
# event, which must stay one Kafka message (the uploads topic takes up to 32 MiB: at this
# many records and the longest details, ~18 MB). The largest LA has a few thousand children
# on plans or looked after.
MAX_RECORDS = 20_000


@dataclass(frozen=True)
class RecordOutcome:
    index: int
    code: RecordCode
    location: str
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", shortened(self.detail))

    @property
    def succeeded(self) -> bool:
        return self.code is RecordCode.CPR06


@dataclass(frozen=True)
class UploadOutcome:
    sequence: int
    file_code: FileCode
    records: tuple[RecordOutcome, ...] = ()
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "records", tuple(self.records))  # stored as a JSON list
        object.__setattr__(self, "detail", shortened(self.detail))

    @property
    def successful(self) -> int:
        return sum(1 for r in self.records if r.succeeded)

    @property
    def failed(self) -> int:
        return len(self.records) - self.successful


def file_code_for(records: tuple[RecordOutcome, ...]) -> FileCode:
    successful = sum(1 for r in records if r.succeeded)
    if records and successful == len(records):
        return FileCode.CPF02
    return FileCode.CPF03 if successful else FileCode.CPF04


def rejected_file(sequence: int, detail: str) -> UploadOutcome:
    return UploadOutcome(sequence, FileCode.CPF01, (), detail)
