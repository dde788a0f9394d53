"""Operators' looks at a child's data in the console: each look is an event naming the
operator, the NHS number and what was viewed, so the audit covers the auditors too. One log
per NHS number, so a record's page can show who looked at it."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.model.limits import shortened
from domain.model.nhs_number import NhsNumber

LOOKS_NAMESPACE = uuid5(NAMESPACE_URL, "urn:cpis:operator-looks")


def look_log_id(nhs_number: NhsNumber) -> UUID:
    return uuid5(LOOKS_NAMESPACE, nhs_number.value)


class OperatorLookLog(Aggregate):
    TOPIC = "cpis:OperatorLookLog"

    class Event(Aggregate.Event):
        TOPIC = "cpis:OperatorLookLog.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "cpis:OperatorLookLog.Created"

    class Opened(Created):
        TOPIC = "cpis:OperatorLookLogOpened.v1"
        nhs_number: NhsNumber

    class Looked(Event):
        TOPIC = "cpis:OperatorLooked.v1"
        nhs_number: NhsNumber
        operator: str  # the identity provider's subject and user name: "<sub> (<username>)"
        issuer: str
        viewed: str  # which page and what on it: "record", "record at ...", "query ..."

    @staticmethod
    def create_id(nhs_number: NhsNumber) -> UUID:
        return look_log_id(nhs_number)

    @event(Opened)
    def __init__(self, nhs_number: NhsNumber) -> None:
        self.nhs_number = nhs_number

    def looked(self, operator: str, issuer: str, viewed: str) -> None:
        self._looked(nhs_number=self.nhs_number, operator=shortened(operator, 200),
                     issuer=shortened(issuer, 200), viewed=shortened(viewed, 200))

    @event(Looked)
    def _looked(self, nhs_number: NhsNumber, operator: str, issuer: str, viewed: str) -> None:
        pass
