"""The Personal Demographics Service as CP-IS sees it at upload: a port with one question."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Protocol

from domain.model.errors import DomainError
from domain.model.nhs_number import NhsNumber


class PdsStatus(Enum):
    VERIFIED = "verified"
    UNKNOWN = "unknown"  # CPR01 no match
    SENSITIVE = "sensitive"  # CPR02 S-flagged record
    NOT_VERIFIED = "not verified"  # CPR03 supplied data does not match well enough
    SUPERSEDED = "superseded"  # CPR05 a new number is required


class PdsUnavailableError(DomainError):
    """PDS could not be asked; the file should be resubmitted (CPF05)."""


class PdsPort(Protocol):
    def status(self, nhs_number: NhsNumber, birth_date: date | None) -> PdsStatus:
        """Trace the NHS number, checking the supplied birth date where given."""
