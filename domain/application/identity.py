"""PDS identity changes: NHS number A superseded by B (a merge), or A retired."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.application.app import ChangeOutcome, CpisApplication
from domain.model.errors import IdentityError
from domain.model.limits import MAX_ID, check_text
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance


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


def apply_identity_change(app: CpisApplication, change: IdentityChange) -> ChangeOutcome:
    """Record the change; NOT_HELD where CP-IS holds no record for the number (nothing to
    do), ALREADY_APPLIED where it was recorded before.
    A change naming a number never issued, or a feed id over MAX_ID characters, is refused
    (DomainError) before anything is recorded."""
    check_text(change.feed_id, "the PDS feed id", MAX_ID)
    for number in (change.nhs_number, change.replacement):
        if number is not None:
            app.limits.check_nhs_number(number)
    provenance = Provenance(Channel.PDS, message_id=change.feed_id)
    if change.kind is ChangeKind.SUPERSEDED:
        assert change.replacement is not None
        return app.merge(change.nhs_number, change.replacement, provenance)
    return app.mark_inactive(change.nhs_number, provenance)
