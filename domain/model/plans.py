"""Plan types, plan dates and the subject a plan is about."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from functools import cached_property
from zoneinfo import ZoneInfo

from domain.model.errors import InvalidPlanError
from domain.model.local_authority import LocalAuthority

UK = ZoneInfo("Europe/London")


def local_plan_time(moment: datetime) -> datetime:
    """Plan dates are UK wall-clock times without a zone; an aware moment is converted."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UK).replace(tzinfo=None)


class PlanType(Enum):
    """The three kinds of plan CP-IS holds, with their SNOMED CT codes."""

    CHILD_PROTECTION_PLAN = "CPP"
    LOOKED_AFTER_CHILD = "LAC"
    UNBORN_CHILD_PROTECTION_PLAN = "UCP"

    @property
    def snomed_code(self) -> str:
        return _SNOMED[self]

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def keyed_by_mother(self) -> bool:
        """An unborn child's plan is held under the mother's NHS number."""
        return self is PlanType.UNBORN_CHILD_PROTECTION_PLAN

    @property
    def requires_end_date(self) -> bool:
        return self is PlanType.UNBORN_CHILD_PROTECTION_PLAN

    @classmethod
    def from_code(cls, code: str) -> PlanType:
        """Accept the short code (CPP, LAC, UCP) or the SNOMED CT code."""
        found = _BY_CODE.get(code)
        if found is None:
            raise InvalidPlanError(
                f"unknown plan type {code!r}: expected CPP, LAC or UCP or their SNOMED CT codes"
            )
        return found


_SNOMED = {
    PlanType.CHILD_PROTECTION_PLAN: "342191000000101",
    PlanType.LOOKED_AFTER_CHILD: "764841000000100",
    PlanType.UNBORN_CHILD_PROTECTION_PLAN: "818901000000100",
}
_BY_CODE = {code: t for t in PlanType for code in (t.value, _SNOMED[t])}
_LABELS = {
    PlanType.CHILD_PROTECTION_PLAN: "Child Protection Plan",
    PlanType.LOOKED_AFTER_CHILD: "Looked After Child",
    PlanType.UNBORN_CHILD_PROTECTION_PLAN: "Unborn Child Protection Plan",
}


@dataclass(frozen=True)
class PlanDates:
    """Start (required), end (optional for CPP/LAC) and delete date of a plan.

    Plan dates have minute precision, as in the HL7 12-digit YYYYMMDDHHMM form.
    """

    start: datetime
    end: datetime | None = None
    delete: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end", "delete"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is not None:
                object.__setattr__(self, name, local_plan_time(moment))
        if self.end is not None and self.end < self.start:
            raise InvalidPlanError(
                f"plan end date {self.end:%Y-%m-%d %H:%M} is before its start date "
                f"{self.start:%Y-%m-%d %H:%M}"
            )

    def check_for(self, plan_type: PlanType) -> None:
        if plan_type.requires_end_date and self.end is None:
            raise InvalidPlanError(
                f"an {plan_type.label} ({plan_type.value}) needs an end date (the expected "
                "date of birth)"
            )

    def ended_at(self, end: datetime) -> PlanDates:
        return replace(self, end=local_plan_time(end))

    def deleted_at(self, delete: datetime) -> PlanDates:
        return replace(self, delete=local_plan_time(delete))


@dataclass(frozen=True)
class Subject:
    """Who the plan is about: the child, or for an unborn child the mother."""

    given_name: str
    family_name: str
    birth_date: date | None = None
    local_id: str | None = None

    def __post_init__(self) -> None:
        if not self.given_name.strip() or not self.family_name.strip():
            raise InvalidPlanError("a plan subject needs both a given name and a family name")


@dataclass(frozen=True)
class Plan:
    """A plan held for an NHS number by its responsible local authority."""

    plan_type: PlanType
    local_authority: LocalAuthority
    dates: PlanDates
    subject: Subject

    def __post_init__(self) -> None:
        self.dates.check_for(self.plan_type)

    @cached_property
    def key(self) -> PlanKey:  # asked for three times as an upload registers the plan
        return PlanKey(self.local_authority.ods_code, self.plan_type)

    def is_deleted(self, now: datetime) -> bool:
        return self.dates.delete is not None and self.dates.delete <= local_plan_time(now)


@dataclass(frozen=True)
class PlanKey:
    """A plan is identified by its local authority and plan type."""

    ods_code: str
    plan_type: PlanType

    def __str__(self) -> str:
        return f"{self.plan_type.value} held by {self.ods_code}"
