"""Queries CP-IS refuses to answer. Each is recorded, so probing leaves a trace too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from eventsourcing.domain import Aggregate, event

from domain.model.authors import Author
from domain.model.limits import shortened
from domain.model.provenance import Provenance


class RefusalReason(Enum):
    """Why a query was not answered."""

    MALFORMED = "malformed"  # not a CP-IS query, or a mandatory element missing
    OUT_OF_RANGE = "out of range"  # a time, date, number or text outside its window
    NOT_AUTHORISED = "not authorised"  # sender, organisation, role or interaction not allowed
    EVENT_ID_REUSED = "event id reused"  # the event id was used with another number or author


@dataclass(frozen=True)
class Refusal:
    """A refused query: why, when, and what is known of who asked (as they sent it)."""

    reason: RefusalReason
    detail: str
    received_at: datetime
    access_id: str | None = None
    author: Author | None = None
    organisation_ods: str | None = None  # as sent, where no valid author could be read

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", shortened(self.detail))
        for name in ("access_id", "organisation_ods"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, shortened(value))

    @property
    def organisation(self) -> str | None:
        return self.author.organisation_ods if self.author else self.organisation_ods


class UnnumberedRefusal(Aggregate):
    """A refused query that named no valid NHS number (so no record holds it): one small
    aggregate each, listed by `cpis audit refusals`."""

    TOPIC = "cpis:UnnumberedRefusal"

    class Event(Aggregate.Event):
        TOPIC = "cpis:UnnumberedRefusal.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "cpis:UnnumberedRefusal.Created"

    class Recorded(Created):
        TOPIC = "cpis:UnnumberedQueryRefused.v1"
        nhs_number_sent: str | None
        refusal: Refusal
        provenance: Provenance

    @classmethod
    def record(cls, nhs_number_sent: str | None, refusal: Refusal,
               provenance: Provenance) -> UnnumberedRefusal:
        sent = shortened(nhs_number_sent, 32) if nhs_number_sent is not None else None
        return cls(nhs_number_sent=sent, refusal=refusal, provenance=provenance)

    @event(Recorded)
    def __init__(self, nhs_number_sent: str | None, refusal: Refusal,
                 provenance: Provenance) -> None:
        self.nhs_number_sent = nhs_number_sent  # as sent (shortened), where it was sent
        self.refusal = refusal
        self.provenance = provenance
