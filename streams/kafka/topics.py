"""Kafka topic layout. Every message is keyed by NHS number, so each record's events stay
in order (one partition per key).

| topic                        | carries                                                  |
|------------------------------|----------------------------------------------------------|
| cpis.plans.v1                | RecordOpened, PlanRegistered/Updated/Ended/Deleted        |
| cpis.accesses.v1             | InformationAccessed                                      |
| cpis.identity.v1             | NhsNumberSuperseded, RecordMergedIn, NhsNumberMarkedInactive |
| cpis.la-notifications.v1     | LocalAuthorityNotificationDue, one per LA per access/inactive |
| cpis.uploads.v1              | UploadLedgerOpened, UploadProcessed, FileResponseSent (key: ODS) |
| cpis.query-audit.v1          | reads recorded for the audit only: InformationReadSilently,  |
|                              | NoRecordsFoundAnswered, QueryRefused, EventIdClaimed,        |
|                              | UnnumberedQueryRefused (key: the sender's ASID),             |
|                              | OperatorLookLogOpened, OperatorLooked (the console's looks)  |
| cpis.pds-identity-changes.v1 | IdentityChange: the PDS feed CP-IS follows (key: NHS number)  |
| cpis.dead-letter.v1          | messages the projector could not apply, reason in headers |
| cpis.relay-position.v1       | the relay's last published event-store position (transactional) |
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from domain.model.event_id_claims import EventIdClaim
from domain.model.operator_looks import OperatorLookLog
from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import UnnumberedRefusal
from domain.model.upload_ledger import UploadLedger
from streams.avro.codec import BY_NAME

PARTITIONS = 3
# events recorded for the audit only: no view changes for them
AUDIT_ONLY = (Record.InformationReadSilently, Record.NoRecordsFoundAnswered,
              Record.QueryRefused, EventIdClaim.Event, UnnumberedRefusal.Event,
              OperatorLookLog.Event)


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    def _name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def plans(self) -> str:
        return self._name("cpis.plans.v1")

    @property
    def accesses(self) -> str:
        return self._name("cpis.accesses.v1")

    @property
    def identity(self) -> str:
        return self._name("cpis.identity.v1")

    @property
    def la_notifications(self) -> str:
        return self._name("cpis.la-notifications.v1")

    @property
    def uploads(self) -> str:
        return self._name("cpis.uploads.v1")

    @property
    def query_audit(self) -> str:
        return self._name("cpis.query-audit.v1")

    @property
    def pds_changes(self) -> str:
        return self._name("cpis.pds-identity-changes.v1")

    @property
    def dead_letter(self) -> str:
        return self._name("cpis.dead-letter.v1")

    @property
    def relay_position(self) -> str:
        return self._name("cpis.relay-position.v1")

    @property
    def record_events(self) -> tuple[str, str, str]:
        """The topics the projector follows."""
        return (self.plans, self.accesses, self.identity)

    def all(self) -> tuple[str, ...]:
        return (*self.record_events, self.la_notifications, self.uploads, self.query_audit,
                self.pds_changes, self.dead_letter, self.relay_position)

    def for_event(self, event: Any) -> str:
        return self.for_event_type(type(event))

    @cached_property
    def stored_topics(self) -> dict[str, str]:
        """Each event's Avro full name -> its topic."""
        return {name: self.for_event_type(cls) for name, (cls, _) in BY_NAME.items()}

    def for_event_type(self, cls: type[Any]) -> str:
        if issubclass(cls, UploadLedger.Event):
            return self.uploads
        if issubclass(cls, AUDIT_ONLY):
            return self.query_audit
        if issubclass(cls, Record.InformationAccessed):
            return self.accesses
        if issubclass(cls, Record.NhsNumberSuperseded | Record.NhsNumberMarkedInactive
                      | Record.RecordMergedIn):
            return self.identity
        return self.plans
