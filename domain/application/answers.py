"""What a care setting is told about a record, as plain values (never live aggregates):
one function for the live query and for the audit's rebuilding of it, so both say the
same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.model.access import Access
from domain.model.local_authority import LocalAuthority
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanType, Subject
from domain.model.record import ChildProtectionRecord


@dataclass(frozen=True)
class ShownPlan:
    """A plan as shown to care settings: no delete date."""

    plan_type: PlanType
    local_authority: LocalAuthority
    start: datetime
    end: datetime | None
    subject: Subject

    @classmethod
    def of(cls, plan: Plan) -> ShownPlan:
        return cls(plan.plan_type, plan.local_authority, plan.dates.start, plan.dates.end,
                   plan.subject)


@dataclass(frozen=True)
class QueryAnswer:
    """What a care setting is told: every plan, LA contacts and the access history."""

    nhs_number: NhsNumber
    plans: tuple[ShownPlan, ...]
    history: tuple[Access, ...]
    access_recorded: bool

    @property
    def local_authorities(self) -> tuple[LocalAuthority, ...]:
        seen: dict[str, LocalAuthority] = {}
        for plan in self.plans:
            seen.setdefault(plan.local_authority.ods_code, plan.local_authority)
        return tuple(seen.values())


@dataclass(frozen=True)
class HistoryEntry:
    """One stored event of a record, described for people (demo, audit)."""

    version: int
    recorded_at: datetime
    event_name: str
    summary: str
    provenance: str


def answer_from(record: ChildProtectionRecord, now: datetime, current: Access | None
                ) -> QueryAnswer:
    return QueryAnswer(
        nhs_number=record.nhs_number,
        plans=tuple(ShownPlan.of(plan) for plan in record.current_plans(now)),
        history=tuple(record.access_history(current)),
        access_recorded=current is not None,
    )
