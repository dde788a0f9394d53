"""The child protection record: one event-sourced aggregate per NHS number."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Self
from uuid import NAMESPACE_OID, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as AggregateSnapshot
from eventsourcing.utils import register_topic

from domain.model.access import Access
from domain.model.access_log import AccessLog
from domain.model.copying import CopiedByContainers
from domain.model.errors import (
    DomainError,
    IdentityError,
    InvalidPlanError,
    NotResponsibleError,
    PlanNotFoundError,
)
from domain.model.merging import plans_taken
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanKey, PlanType, local_plan_time
from domain.model.provenance import Provenance
from domain.model.refusals import Refusal

RECORD_NAMESPACE = uuid5(NAMESPACE_OID, "2.16.840.1.113883.2.1.4.1")  # NHS number OID


@lru_cache(maxsize=1 << 16)
def record_id(nhs_number: NhsNumber) -> UUID:
    """Deterministic aggregate id, so redelivered commands land on the same record (kept for
    the numbers met most recently: a new record's upload asks for it twice)."""
    return uuid5(RECORD_NAMESPACE, nhs_number.value)


class ChildProtectionRecord(CopiedByContainers, Aggregate):
    """Plans, accesses and identity of one NHS number (a child's, or a mother's for UCP).

    Commands trigger their events with `trigger_event`; each @event method below is the
    body that applies its event (calling it would trigger the event too, but through the
    library's argument coercion, which a large upload pays for every record).
    """

    TOPIC = "cpis:ChildProtectionRecord"

    class Event(Aggregate.Event):
        TOPIC = "cpis:ChildProtectionRecord.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "cpis:ChildProtectionRecord.Created"

    class Opened(Created):
        TOPIC = "cpis:RecordOpened.v1"
        nhs_number: NhsNumber

    class PlanRegistered(Event):
        TOPIC = "cpis:PlanRegistered.v1"
        nhs_number: NhsNumber
        plan: Plan
        provenance: Provenance

    class PlanUpdated(Event):
        TOPIC = "cpis:PlanUpdated.v1"
        nhs_number: NhsNumber
        plan: Plan
        provenance: Provenance

    class PlanEnded(Event):
        TOPIC = "cpis:PlanEnded.v1"
        nhs_number: NhsNumber
        ods_code: str
        plan_type: PlanType
        end: datetime
        provenance: Provenance

    class PlanDeleted(Event):
        TOPIC = "cpis:PlanDeleted.v1"
        nhs_number: NhsNumber
        ods_code: str
        plan_type: PlanType
        delete: datetime
        provenance: Provenance

    class InformationAccessed(Event):
        TOPIC = "cpis:InformationAccessed.v1"
        nhs_number: NhsNumber
        access: Access
        notify: list[str]
        provenance: Provenance

    class InformationReadSilently(Event):
        """A scheduled-care setting read the record (a silent read: not in the history
        shown, no LA notified)."""

        TOPIC = "cpis:InformationReadSilently.v1"
        nhs_number: NhsNumber
        access: Access
        provenance: Provenance

    class NoRecordsFoundAnswered(Event):
        """A query was told CP-IS holds no current plan for the number."""

        TOPIC = "cpis:NoRecordsFoundAnswered.v1"
        nhs_number: NhsNumber
        access: Access
        provenance: Provenance

    class QueryRefused(Event):
        """A query about the number was refused (not answered)."""

        TOPIC = "cpis:QueryRefused.v1"
        nhs_number: NhsNumber
        refusal: Refusal
        provenance: Provenance

    class NhsNumberSuperseded(Event):
        TOPIC = "cpis:NhsNumberSuperseded.v1"
        nhs_number: NhsNumber
        replacement: NhsNumber
        notify: list[str]
        provenance: Provenance

    class RecordMergedIn(Event):
        """The plans and accesses of `merged_from` taken over. With `replaces_held` the
        plans are those this number takes (domain/merging.py), each replacing the one it
        held for the same local authority and plan type; events stored before that rule
        carry every live plan of the old number, kept only where none was held."""

        TOPIC = "cpis:RecordMergedIn.v1"
        nhs_number: NhsNumber
        merged_from: NhsNumber
        plans: list[Plan]
        accesses: list[Access]
        provenance: Provenance
        replaces_held: bool = False

    class NhsNumberMarkedInactive(Event):
        TOPIC = "cpis:NhsNumberMarkedInactive.v1"
        nhs_number: NhsNumber
        notify: list[str]
        provenance: Provenance

    class Snapshot(AggregateSnapshot):
        """The record's state at a version, so a query reads it and the events since, not
        the whole history (RecordStore's snapshotting interval). Stored as JSON: the plans
        as a list (JSON keys are strings), the access log as its two lists."""

        TOPIC = "cpis:ChildProtectionRecordSnapshot.v1"

        @classmethod
        def take(cls, aggregate: Any) -> Self:
            snapshot = super().take(aggregate)
            state = dict(snapshot.state)
            state["plans"] = list(state["plans"].values())
            state["access_log"] = state["access_log"].to_state()
            return replace(snapshot, state=state)

        def mutate(self, _: None) -> Any:
            record: Any = super().mutate(_)
            record.plans = {plan.key: plan for plan in record.plans}
            record.access_log = AccessLog.from_state(record.access_log)
            return record

    @staticmethod
    def create_id(nhs_number: NhsNumber) -> UUID:
        return record_id(nhs_number)

    @event(Opened)
    def __init__(self, nhs_number: NhsNumber) -> None:
        self.nhs_number = nhs_number
        self.plans: dict[PlanKey, Plan] = {}
        # bounded, so a query costs the same after thousands of accesses (access_log.py)
        self.access_log = AccessLog()
        self.superseded_by: NhsNumber | None = None
        self.inactive = False
        self.merged_from: list[NhsNumber] = []

    # -- queries on state -------------------------------------------------------------

    def current_plans(self, now: datetime) -> list[Plan]:
        """Plans not deleted by `now`, in a stable order (LA, plan type)."""
        live = [plan for plan in self.plans.values() if not plan.is_deleted(now)]
        return sorted(live, key=lambda p: (p.local_authority.ods_code, p.plan_type.value))

    @property
    def is_active(self) -> bool:
        return self.superseded_by is None and not self.inactive

    def responsible_authorities(self, now: datetime) -> list[str]:
        """ODS codes of the local authorities holding a live plan: who gets notified."""
        return sorted({plan.local_authority.ods_code for plan in self.current_plans(now)})

    # -- plan commands ----------------------------------------------------------------

    def register_plan(self, plan: Plan, provenance: Provenance, now: datetime) -> None:
        self.check_active()
        existing = self.plans.get(plan.key)
        if existing is not None and not existing.is_deleted(now):
            raise DomainError(
                f"NHS number {self.nhs_number} already has a plan {plan.key}; update it instead"
            )
        self.trigger_event(self.PlanRegistered, nhs_number=self.nhs_number, plan=plan,
                           provenance=provenance)

    @event(PlanRegistered)
    def _plan_registered(
        self, nhs_number: NhsNumber, plan: Plan, provenance: Provenance
    ) -> None:
        self.plans[plan.key] = plan

    def update_plan(self, plan: Plan, provenance: Provenance, now: datetime) -> None:
        self.check_active()
        self.check_holds(plan.key, now)
        self.trigger_event(self.PlanUpdated, nhs_number=self.nhs_number, plan=plan,
                           provenance=provenance)

    @event(PlanUpdated)
    def _plan_updated(self, nhs_number: NhsNumber, plan: Plan, provenance: Provenance) -> None:
        self.plans[plan.key] = plan

    def end_plan(
        self, key: PlanKey, end: datetime, provenance: Provenance, now: datetime
    ) -> None:
        plan = self.check_holds(key, now)
        end = local_plan_time(end)
        if end < plan.dates.start:
            raise InvalidPlanError(
                f"plan {key} for NHS number {self.nhs_number} cannot end on "
                f"{end:%Y-%m-%d %H:%M}, before its start {plan.dates.start:%Y-%m-%d %H:%M}"
            )
        self.trigger_event(self.PlanEnded, nhs_number=self.nhs_number, ods_code=key.ods_code,
                           plan_type=key.plan_type, end=end, provenance=provenance)

    @event(PlanEnded)
    def _plan_ended(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, end: datetime,
        provenance: Provenance,
    ) -> None:
        key = PlanKey(ods_code, plan_type)
        plan = self.plans[key]
        self.plans[key] = Plan(plan.plan_type, plan.local_authority, plan.dates.ended_at(end),
                               plan.subject)

    def delete_plan(
        self, key: PlanKey, delete: datetime, provenance: Provenance, now: datetime
    ) -> None:
        self.check_holds(key, now)
        delete = local_plan_time(delete)
        self.trigger_event(self.PlanDeleted, nhs_number=self.nhs_number, ods_code=key.ods_code,
                           plan_type=key.plan_type, delete=delete, provenance=provenance)

    @event(PlanDeleted)
    def _plan_deleted(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, delete: datetime,
        provenance: Provenance,
    ) -> None:
        key = PlanKey(ods_code, plan_type)
        plan = self.plans[key]
        self.plans[key] = Plan(plan.plan_type, plan.local_authority,
                               plan.dates.deleted_at(delete), plan.subject)

    # -- access -----------------------------------------------------------------------

    def has_access(self, access_id: str) -> bool:
        return self.access_log.holds(access_id)

    def access_history(self, current: Access | None = None) -> list[Access]:
        """The access history shown to a querying clinician (domain/model/access.py)."""
        return self.access_log.history(current)

    @property
    def accesses(self) -> list[Access]:
        """The accesses the record holds, oldest first (access_log.py: the history shown
        and the last 48 hours; the event store holds them all)."""
        return self.access_log.held()

    def record_access(self, access: Access, provenance: Provenance) -> None:
        """Record an unscheduled access once; the same access id again changes nothing."""
        if self.has_access(access.access_id):
            return
        notify = self.responsible_authorities(access.accessed_at)
        self.trigger_event(self.InformationAccessed, nhs_number=self.nhs_number, access=access,
                           notify=notify, provenance=provenance)

    @event(InformationAccessed)
    def _information_accessed(
        self, nhs_number: NhsNumber, access: Access, notify: list[str], provenance: Provenance
    ) -> None:
        self.access_log.add([access])

    def read_silently(self, access: Access, provenance: Provenance) -> None:
        self.trigger_event(self.InformationReadSilently, nhs_number=self.nhs_number,
                           access=access, provenance=provenance)

    @event(InformationReadSilently)
    def _information_read_silently(self, nhs_number: NhsNumber, access: Access,
                                   provenance: Provenance) -> None:
        pass  # audit only: neither shown nor notified

    def answer_no_records(self, access: Access, provenance: Provenance) -> None:
        self.trigger_event(self.NoRecordsFoundAnswered, nhs_number=self.nhs_number,
                           access=access, provenance=provenance)

    @event(NoRecordsFoundAnswered)
    def _no_records_found_answered(self, nhs_number: NhsNumber, access: Access,
                                   provenance: Provenance) -> None:
        pass  # audit only

    def refuse(self, refusal: Refusal, provenance: Provenance) -> None:
        self.trigger_event(self.QueryRefused, nhs_number=self.nhs_number, refusal=refusal,
                           provenance=provenance)

    @event(QueryRefused)
    def _query_refused(self, nhs_number: NhsNumber, refusal: Refusal,
                       provenance: Provenance) -> None:
        pass  # audit only

    # -- identity ---------------------------------------------------------------------

    def supersede(self, replacement: NhsNumber, provenance: Provenance, now: datetime) -> None:
        """Mark this NHS number superseded by `replacement` (a PDS merge)."""
        if replacement == self.nhs_number:
            raise IdentityError(f"NHS number {self.nhs_number} cannot be merged into itself")
        if self.superseded_by == replacement:
            return
        if self.superseded_by is not None:
            raise IdentityError(
                f"NHS number {self.nhs_number} is already superseded by "
                f"{self.superseded_by}, not {replacement}"
            )
        self.trigger_event(self.NhsNumberSuperseded, nhs_number=self.nhs_number,
                           replacement=replacement, notify=self.responsible_authorities(now),
                           provenance=provenance)

    @event(NhsNumberSuperseded)
    def _nhs_number_superseded(
        self, nhs_number: NhsNumber, replacement: NhsNumber, notify: list[str],
        provenance: Provenance,
    ) -> None:
        self.superseded_by = replacement

    def merge_in(self, old: NhsNumber, plans: list[Plan], accesses: list[Access],
                 provenance: Provenance, now: datetime) -> None:
        """Take over the plans and accesses of `old`, merged into this number by PDS.

        Of two plans for the same local authority and plan type, this number keeps the one
        a care setting must see (domain/merging.py); plans of other local authorities are
        kept side by side. Merging the same number again changes nothing.
        """
        if old == self.nhs_number:
            raise IdentityError(f"NHS number {old} cannot be merged into itself")
        self.check_active()
        if old in self.merged_from:
            return
        self.trigger_event(self.RecordMergedIn, nhs_number=self.nhs_number, merged_from=old,
                           plans=plans_taken(self.plans, plans, now), accesses=accesses,
                           provenance=provenance, replaces_held=True)

    @event(RecordMergedIn)
    def _record_merged_in(self, nhs_number: NhsNumber, merged_from: NhsNumber,
                          plans: list[Plan], accesses: list[Access],
                          provenance: Provenance, replaces_held: bool = False) -> None:
        for plan in plans:
            if replaces_held:
                self.plans[plan.key] = plan
            else:
                self.plans.setdefault(plan.key, plan)
        self.access_log.add(accesses)
        self.merged_from.append(merged_from)

    def mark_inactive(self, provenance: Provenance, now: datetime) -> None:
        if self.inactive:
            return
        self.trigger_event(self.NhsNumberMarkedInactive, nhs_number=self.nhs_number,
                           notify=self.responsible_authorities(now), provenance=provenance)

    @event(NhsNumberMarkedInactive)
    def _nhs_number_marked_inactive(
        self, nhs_number: NhsNumber, notify: list[str], provenance: Provenance
    ) -> None:
        self.inactive = True

    # -- guards -----------------------------------------------------------------------

    def check_active(self) -> None:
        if self.superseded_by is not None:
            raise IdentityError(
                f"NHS number {self.nhs_number} has been superseded by {self.superseded_by}; "
                "send plans under the new number"
            )
        if self.inactive:
            raise IdentityError(f"NHS number {self.nhs_number} is inactive")

    def check_holds(self, key: PlanKey, now: datetime) -> Plan:
        """The live plan at `key`; only its responsible local authority may change it."""
        plan = self.plans.get(key)
        if plan is not None and not plan.is_deleted(now):
            return plan
        holders = sorted(
            p.local_authority.ods_code
            for p in self.current_plans(now)
            if p.plan_type is key.plan_type
        )
        if holders:
            raise NotResponsibleError(
                f"local authority {key.ods_code} is not responsible for the "
                f"{key.plan_type.value} plan of NHS number {self.nhs_number} "
                f"(held by {', '.join(holders)})"
            )
        raise PlanNotFoundError(
            f"NHS number {self.nhs_number} has no {key.plan_type.value} plan held by "
            f"{key.ods_code}"
        )


# a snapshot class is not registered by the aggregate's metaclass as its events are: without
# this, a process that has taken none could not resolve a stored snapshot's pinned topic
register_topic(ChildProtectionRecord.Snapshot.TOPIC, ChildProtectionRecord.Snapshot)
