"""PDS identity changes applied to the records: a merge moves plans and accesses to the
number in use and marks the old one superseded; a retirement marks the number inactive.
Either tells the local authorities that held a live plan (domain/model/notifications.py)."""

from __future__ import annotations

from enum import Enum

from domain.application.store import RecordStore
from domain.model.errors import IdentityError
from domain.model.identity import ChangeKind, IdentityChange
from domain.model.limits import MAX_ID, check_text
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord


class ChangeOutcome(Enum):
    """What an identity change did; true unless CP-IS holds no record for the number."""

    APPLIED = "applied"
    ALREADY_APPLIED = "already applied"
    NOT_HELD = "not held"

    def __bool__(self) -> bool:
        return self is not ChangeOutcome.NOT_HELD


class IdentityChanges(RecordStore):
    def supersede(self, old: NhsNumber, new: NhsNumber, provenance: Provenance) -> None:
        """Mark `old` superseded without moving anything (see `merge`)."""
        self._change(old, lambda r: r.supersede(new, provenance, self.clock()), create=True)

    def mark_inactive(self, nhs_number: NhsNumber, provenance: Provenance) -> ChangeOutcome:
        """Retire the NHS number; NOT_HELD (nothing recorded) where CP-IS holds no record."""
        record = self.find_record(nhs_number)
        if record is None:
            return ChangeOutcome.NOT_HELD
        if record.inactive:
            return ChangeOutcome.ALREADY_APPLIED
        self._change(nhs_number, lambda r: r.mark_inactive(provenance, self.clock()))
        return ChangeOutcome.APPLIED

    def merge(self, old: NhsNumber, new: NhsNumber, provenance: Provenance) -> ChangeOutcome:
        """PDS merged `old` into `new`: move plans and accesses to the live end of `new`'s
        chain, mark `old` superseded (its LAs are notified), in one transaction.

        NOT_HELD (nothing recorded) where CP-IS holds no record for `old`; a repeat changes
        nothing (ALREADY_APPLIED); a self-merge or a merge that would make a loop is
        refused.
        """
        if old == new:
            raise IdentityError(f"NHS number {old} cannot be merged into itself")

        def attempt() -> ChangeOutcome:
            source = self.find_record(old)
            if source is None:
                return ChangeOutcome.NOT_HELD
            target_number = self.live_number(new)
            if target_number == old:
                raise IdentityError(f"merging {old} into {new} would make a loop")
            if source.superseded_by in (new, target_number):
                return ChangeOutcome.ALREADY_APPLIED
            target = self.find_record(target_number) or ChildProtectionRecord(
                nhs_number=target_number)
            now = self.clock()
            target.merge_in(old, list(source.plans.values()), list(source.accesses), provenance,
                            now)
            source.supersede(target_number, provenance, now)
            self.save(source, target)
            return ChangeOutcome.APPLIED

        return self._retrying(attempt)

    def live_number(self, nhs_number: NhsNumber) -> NhsNumber:
        """Follow superseded-by links to the number now in use."""
        seen = {nhs_number}
        record = self.find_record(nhs_number)
        while record is not None and record.superseded_by is not None:
            if record.superseded_by in seen:
                raise IdentityError(f"NHS number {nhs_number} is in a supersession loop")
            seen.add(record.superseded_by)
            nhs_number = record.superseded_by
            record = self.find_record(nhs_number)
        return nhs_number


def apply_identity_change(app: IdentityChanges, change: IdentityChange) -> ChangeOutcome:
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
