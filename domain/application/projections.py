"""Projection handlers: record events -> view updates, through an abstract view port.

The same handlers serve the Kafka projector (PostgreSQL views) and the embedded default
(following the event store's notification log into in-memory views).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.model.access import HISTORY_LIMIT, Access
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue, notifications_due
from domain.model.plans import Plan, PlanType
from domain.model.record import ChildProtectionRecord as Record


@dataclass(frozen=True)
class PlanRow:
    """A current-plans view row; `source_file` is the LA file sequence that last set it."""

    nhs_number: str
    plan: Plan
    version: int
    source_file: int | None = None


@dataclass(frozen=True)
class AccessRow:
    nhs_number: str
    access: Access


@dataclass(frozen=True)
class NotificationRow:
    notification: NotificationDue
    status: str = "pending"


class ViewUpdates(ABC):
    """Port: the changes the projection handlers make to the three views, applied inside one
    unit of work (a write-only batch implements just these)."""

    @abstractmethod
    def put_plan(self, nhs_number: NhsNumber, plan: Plan, version: int,
                 source_file: int | None) -> None: ...

    @abstractmethod
    def end_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, end: datetime,
        version: int,
    ) -> None: ...

    @abstractmethod
    def delete_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, delete: datetime,
        version: int,
    ) -> None: ...

    @abstractmethod
    def add_access(self, nhs_number: NhsNumber, access: Access, keep: int) -> None:
        """Add the access (once) and keep only the `keep` newest for the NHS number."""

    @abstractmethod
    def remove_record(self, nhs_number: NhsNumber) -> None:
        """Drop the plans and accesses of a number no longer in use (merged or retired)."""

    @abstractmethod
    def add_notification(self, notification: NotificationDue) -> None:
        """Queue a pending notification (once per notification id)."""


class Views(ViewUpdates):
    """Port: the three views, updated and read."""

    # reads, for tests, replay comparison and the outbound sender
    @abstractmethod
    def plans(self) -> list[PlanRow]: ...

    @abstractmethod
    def accesses(self) -> list[AccessRow]: ...

    @abstractmethod
    def notifications(self) -> list[NotificationRow]: ...


def touches_plans(event: Any) -> bool:
    """Whether projecting the event reads or changes its number's plan rows: all but an
    access do (an access only asks whether the number is retired)."""
    return not isinstance(event, Record.InformationAccessed)


def project(event: Any, views: ViewUpdates) -> None:
    """Apply one record event to the views. Events with no view effect are ignored."""
    version = event.originator_version
    if isinstance(event, Record.PlanRegistered | Record.PlanUpdated):
        views.put_plan(event.nhs_number, event.plan, version, event.provenance.file_sequence)
    elif isinstance(event, Record.PlanEnded):
        views.end_plan(event.nhs_number, event.ods_code, event.plan_type, event.end, version)
    elif isinstance(event, Record.PlanDeleted):
        views.delete_plan(event.nhs_number, event.ods_code, event.plan_type, event.delete,
                          version)
    elif isinstance(event, Record.InformationAccessed):
        views.add_access(event.nhs_number, event.access, HISTORY_LIMIT)
    elif isinstance(event, Record.RecordMergedIn):
        for plan in event.plans:
            views.put_plan(event.nhs_number, plan, version, event.provenance.file_sequence)
        for access in event.accesses:
            views.add_access(event.nhs_number, access, HISTORY_LIMIT)
    elif isinstance(event, Record.NhsNumberSuperseded | Record.NhsNumberMarkedInactive):
        views.remove_record(event.nhs_number)
    for notification in notifications_due(event):
        views.add_notification(notification)
