"""An embedded synthetic PDS: answers from a JSON data set of invented people."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from domain.application.pds import PdsPort, PdsStatus
from domain.model.nhs_number import NhsNumber

DEFAULT_DATA = Path(__file__).resolve().parent / "synthetic_pds.json"


@dataclass(frozen=True)
class PdsEntry:
    status: PdsStatus
    birth_date: date | None = None
    replaced_by: str | None = None


class SyntheticPds(PdsPort):
    def __init__(self, data: dict[str, Any]) -> None:
        self.people = {nhs: _entry(raw) for nhs, raw in data.get("people", {}).items()}
        self.ranges = [(r["from"], r["to"], PdsStatus(r["status"])) for r in data.get("ranges", [])]

    @classmethod
    def load(cls, path: Path = DEFAULT_DATA) -> SyntheticPds:
        return cls(json.loads(path.read_text()))

    def status(self, nhs_number: NhsNumber, birth_date: date | None) -> PdsStatus:
        entry = self.people.get(nhs_number.value)
        if entry is None:
            return self._in_range(nhs_number.value)
        if (entry.status is PdsStatus.VERIFIED and birth_date is not None
                and entry.birth_date is not None and entry.birth_date != birth_date):
            return PdsStatus.NOT_VERIFIED
        return entry.status

    def _in_range(self, value: str) -> PdsStatus:
        for low, high, status in self.ranges:
            if low <= value <= high:
                return status
        return PdsStatus.UNKNOWN


def _entry(raw: dict[str, Any]) -> PdsEntry:
    born = raw.get("birth_date")
    return PdsEntry(PdsStatus(raw["status"]), date.fromisoformat(born) if born else None,
                    raw.get("replaced_by"))
