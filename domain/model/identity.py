"""PDS identity changes: NHS number A superseded by B (a merge), or A retired."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.model.errors import IdentityError
from domain.model.nhs_number import NhsNumber


class ChangeKind(Enum):
    SUPERSEDED = "superseded"
    RETIRED = "retired"


@dataclass(frozen=True)
class IdentityChange:
    feed_id: str
    kind: ChangeKind
    nhs_number: NhsNumber
    replacement: NhsNumber | None = None

    def __post_init__(self) -> None:
        if not self.feed_id.strip():
            raise IdentityError("an identity change needs its PDS feed id")
        if self.kind is ChangeKind.SUPERSEDED and self.replacement is None:
            raise IdentityError(f"superseded NHS number {self.nhs_number} needs a replacement")
        if self.kind is ChangeKind.RETIRED and self.replacement is not None:
            raise IdentityError(f"retired NHS number {self.nhs_number} takes no replacement")
