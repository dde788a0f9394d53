"""Which NHS number, author and organisation a query event id belongs to.

A care setting gives each query a fresh event id (a GUID). The first query to use an id
claims it; the same query resent keeps the same number, author and organisation and is
answered again without a second access. Anything else using that id (another child, another
clinician, another organisation) is refused and the refusal recorded: otherwise it would be
answered and leave no trace. One small aggregate per id, created in the same transaction as
the read it belongs to, so two processes cannot both claim it.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.model.authors import Author
from domain.model.nhs_number import NhsNumber

CLAIM_NAMESPACE = uuid5(NAMESPACE_URL, "urn:cpis:query-event-id")


def claim_id(event_id: str) -> UUID:
    return uuid5(CLAIM_NAMESPACE, event_id)


class EventIdClaim(Aggregate):
    TOPIC = "cpis:EventIdClaim"

    class Event(Aggregate.Event):
        TOPIC = "cpis:EventIdClaim.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "cpis:EventIdClaim.Created"

    class Claimed(Created):
        TOPIC = "cpis:EventIdClaimed.v1"
        event_id: str
        nhs_number: NhsNumber
        author_identity: str
        organisation_ods: str

    @staticmethod
    def create_id(event_id: str) -> UUID:
        return claim_id(event_id)

    @event(Claimed)
    def __init__(self, event_id: str, nhs_number: NhsNumber, author_identity: str,
                 organisation_ods: str) -> None:
        self.event_id = event_id
        self.nhs_number = nhs_number
        self.author_identity = author_identity
        self.organisation_ods = organisation_ods

    @classmethod
    def claim(cls, event_id: str, nhs_number: NhsNumber, author: Author) -> EventIdClaim:
        return cls(event_id=event_id, nhs_number=nhs_number, author_identity=author.identity,
                   organisation_ods=author.organisation_ods)

    def belongs_to(self, nhs_number: NhsNumber, author: Author) -> bool:
        return (self.nhs_number == nhs_number and self.author_identity == author.identity
                and self.organisation_ods == author.organisation_ods)
