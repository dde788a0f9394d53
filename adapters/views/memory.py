"""In-memory views: the embedded default's view store, and the contract-test reference."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from domain.application.projections import AccessRow, NotificationRow, PlanRow, Views
from domain.model.access import Access
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue
from domain.model.plans import Plan, PlanType

PlanSlot = tuple[str, str, str]


def plan_slot(row: PlanRow) -> PlanSlot:
    """(NHS number, ODS code, plan type): the key of a current-plans row."""
    return (row.nhs_number, row.plan.local_authority.ods_code, row.plan.plan_type.value)


class InMemoryViews(Views):
    def __init__(self) -> None:
        self._plans: dict[PlanSlot, PlanRow] = {}
        self._accesses: dict[str, dict[str, Access]] = {}
        self._notifications: dict[str, NotificationRow] = {}
        self._retired: set[str] = set()

    @classmethod
    def holding(cls, plans: Iterable[PlanRow], retired: Iterable[str]) -> InMemoryViews:
        """Views that start with these plan rows and retired NHS numbers."""
        views = cls()
        views._plans = {plan_slot(row): row for row in plans}
        views._retired = set(retired)
        return views

    def plan_slots(self) -> dict[PlanSlot, PlanRow]:
        return dict(self._plans)

    def retired_numbers(self) -> frozenset[str]:
        return frozenset(self._retired)

    def is_retired(self, nhs_number: str) -> bool:
        return nhs_number in self._retired

    def put_plan(self, nhs_number: NhsNumber, plan: Plan, version: int,
                 source_file: int | None) -> None:
        row = PlanRow(nhs_number.value, plan, version, source_file)
        held = self._plans.get(plan_slot(row))
        if nhs_number.value in self._retired or (held is not None and held.version >= version):
            return
        self._plans[plan_slot(row)] = row

    def _change_dates(
        self, slot: PlanSlot, version: int, end: datetime | None = None,
        delete: datetime | None = None,
    ) -> None:
        row = self._plans.get(slot)
        if row is None or row.version >= version:  # like PostgreSQL: only a newer version
            return
        dates = row.plan.dates
        dates = dates.ended_at(end) if end is not None else dates
        dates = dates.deleted_at(delete) if delete is not None else dates
        self._plans[slot] = PlanRow(row.nhs_number, replace(row.plan, dates=dates), version,
                                    row.source_file)

    def end_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, end: datetime,
        version: int,
    ) -> None:
        self._change_dates((nhs_number.value, ods_code, plan_type.value), version, end=end)

    def delete_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, delete: datetime,
        version: int,
    ) -> None:
        self._change_dates((nhs_number.value, ods_code, plan_type.value), version, delete=delete)

    def add_access(self, nhs_number: NhsNumber, access: Access, keep: int) -> None:
        if nhs_number.value in self._retired:
            return
        history = self._accesses.setdefault(nhs_number.value, {})
        history[access.access_id] = access
        newest = sorted(history.values(), key=lambda a: (a.accessed_at, a.access_id))[-keep:]
        self._accesses[nhs_number.value] = {a.access_id: a for a in newest}

    def remove_record(self, nhs_number: NhsNumber) -> None:
        self._retired.add(nhs_number.value)
        self._plans = {slot: row for slot, row in self._plans.items()
                       if slot[0] != nhs_number.value}
        self._accesses.pop(nhs_number.value, None)

    def add_notification(self, notification: NotificationDue) -> None:
        self._notifications.setdefault(notification.notification_id, NotificationRow(notification))

    def plans(self) -> list[PlanRow]:
        return [self._plans[slot] for slot in sorted(self._plans)]

    def accesses(self) -> list[AccessRow]:
        return [
            AccessRow(nhs, access)
            for nhs in sorted(self._accesses)
            for access in sorted(self._accesses[nhs].values(),
                                 key=lambda a: (a.accessed_at, a.access_id), reverse=True)
        ]

    def notifications(self) -> list[NotificationRow]:
        return [self._notifications[key] for key in sorted(self._notifications)]
