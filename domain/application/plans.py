"""A local authority's plan commands outside a file upload: register or update, end,
delete. An upload applies its records through the same record commands
(domain/application/uploads.py)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from domain.application.store import RecordStore
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanKey, PlanType
from domain.model.provenance import Provenance
from domain.model.record import ChildProtectionRecord


class PlanChange(Enum):
    REGISTERED = "registered"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class PlanCommands(RecordStore):
    def upload_plan(self, nhs_number: NhsNumber, plan: Plan, provenance: Provenance) -> PlanChange:
        """Register the plan, or update the one its local authority already holds."""

        def change(record: ChildProtectionRecord) -> PlanChange:
            now = self.clock()
            held = record.plans.get(plan.key)
            if held is None or held.is_deleted(now):
                record.register_plan(plan, provenance, now)
                return PlanChange.REGISTERED
            if held == plan:
                return PlanChange.UNCHANGED
            record.update_plan(plan, provenance, now)
            return PlanChange.UPDATED

        return self._change(nhs_number, change, create=True)

    def end_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, end: datetime,
        provenance: Provenance,
    ) -> None:
        key = PlanKey(ods_code, plan_type)
        self._change(nhs_number, lambda r: r.end_plan(key, end, provenance, self.clock()))

    def delete_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, delete: datetime,
        provenance: Provenance,
    ) -> None:
        key = PlanKey(ods_code, plan_type)
        self._change(nhs_number, lambda r: r.delete_plan(key, delete, provenance, self.clock()))
