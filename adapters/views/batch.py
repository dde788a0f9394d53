"""A write-only unit of work for one consumed batch: the projection handlers apply the whole
batch in memory, then a store writes the net change in a few set-based statements.

It starts from the stored plan rows and retired numbers of the NHS numbers the batch
touches; plan changes follow the in-memory views (the contract-tested twin of the stored
ones), accesses and notifications are collected, and a retired number drops what the batch
had collected for it. Adding accesses then keeping the newest `keep` per number gives the
same history as trimming after each one: an access once outside the newest can never return.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from adapters.views.memory import InMemoryViews, PlanSlot
from adapters.views.pg_rows import Source
from domain.application.projections import PlanRow, ViewUpdates
from domain.model.access import Access
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue
from domain.model.plans import Plan, PlanType

AccessSlot = tuple[str, str]  # (NHS number, access id)


class ViewBatch(ViewUpdates):
    def __init__(self, stored_plans: Iterable[PlanRow], retired: Iterable[str]) -> None:
        self._plans = InMemoryViews.holding(stored_plans, retired)
        self._stored_plans = self._plans.plan_slots()
        self._stored_retired = self._plans.retired_numbers()
        self.accesses: dict[AccessSlot, Access] = {}
        self.keep: int | None = None
        # each notification with the Kafka message it came from (`source` as it was added)
        self.notifications: dict[str, tuple[NotificationDue, Source | None]] = {}
        self.source: Source | None = None  # the Kafka message being applied

    def put_plan(self, nhs_number: NhsNumber, plan: Plan, version: int,
                 source_file: int | None) -> None:
        self._plans.put_plan(nhs_number, plan, version, source_file)

    def end_plan(self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType,
                 end: datetime, version: int) -> None:
        self._plans.end_plan(nhs_number, ods_code, plan_type, end, version)

    def delete_plan(self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType,
                    delete: datetime, version: int) -> None:
        self._plans.delete_plan(nhs_number, ods_code, plan_type, delete, version)

    def add_access(self, nhs_number: NhsNumber, access: Access, keep: int) -> None:
        if self._plans.is_retired(nhs_number.value):
            return
        self.accesses.setdefault((nhs_number.value, access.access_id), access)
        self.keep = keep if self.keep is None else min(self.keep, keep)

    def remove_record(self, nhs_number: NhsNumber) -> None:
        self._plans.remove_record(nhs_number)
        self.accesses = {slot: a for slot, a in self.accesses.items()
                         if slot[0] != nhs_number.value}

    def add_notification(self, notification: NotificationDue) -> None:
        self.notifications.setdefault(notification.notification_id, (notification, self.source))

    # -- the net change ---------------------------------------------------------------

    def plans_gone(self) -> list[PlanSlot]:
        """Stored plan rows to delete: removed or changed (a changed one is written anew)."""
        now = self._plans.plan_slots()
        return [slot for slot, row in self._stored_plans.items() if now.get(slot) != row]

    def plans_new(self) -> list[PlanRow]:
        """Plan rows to write: added or changed."""
        return [row for slot, row in self._plans.plan_slots().items()
                if self._stored_plans.get(slot) != row]

    def newly_retired(self) -> list[str]:
        return sorted(self._plans.retired_numbers() - self._stored_retired)
