"""Notifications CP-IS owes local authorities, derived from record events.

One per access and per inactive (or superseded) NHS number, for each local authority that
held a live plan at that moment (the event's `notify` list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.model.access import Access
from domain.model.nhs_number import NhsNumber
from domain.model.record import ChildProtectionRecord as Record


class NotificationKind(Enum):
    ACCESS = "ACCESS"
    INACTIVE_NHS_NUMBER = "INACTIVE_NHS_NUMBER"


@dataclass(frozen=True)
class NotificationDue:
    notification_id: str
    kind: NotificationKind
    ods_code: str
    nhs_number: NhsNumber
    record_id: UUID
    version: int
    occurred_at: datetime
    access: Access | None = None
    replacement: NhsNumber | None = None


# the only event types that cause notifications: an access, and an NHS number retired
NOTIFYING_EVENTS = (Record.InformationAccessed, Record.NhsNumberSuperseded,
                    Record.NhsNumberMarkedInactive)


def notifications_due(event: Any) -> list[NotificationDue]:
    """The notifications an event causes (none for any type outside NOTIFYING_EVENTS)."""
    if not isinstance(event, NOTIFYING_EVENTS):
        return []
    if isinstance(event, Record.InformationAccessed):
        kind, access, replacement = NotificationKind.ACCESS, event.access, None
        occurred_at = event.access.accessed_at
    elif isinstance(event, Record.NhsNumberSuperseded):
        kind, access, replacement = NotificationKind.INACTIVE_NHS_NUMBER, None, event.replacement
        occurred_at = event.timestamp
    else:  # NhsNumberMarkedInactive
        kind, access, replacement = NotificationKind.INACTIVE_NHS_NUMBER, None, None
        occurred_at = event.timestamp
    return [
        NotificationDue(
            notification_id=f"{event.originator_id}:{event.originator_version}:{ods_code}",
            kind=kind, ods_code=ods_code, nhs_number=event.nhs_number,
            record_id=event.originator_id, version=event.originator_version,
            occurred_at=occurred_at, access=access, replacement=replacement,
        )
        for ods_code in event.notify
    ]
