"""Describe stored record events in words, for the demo and the operator audit."""

from __future__ import annotations

from typing import Any

from domain.record import ChildProtectionRecord as Record
from domain.views import HistoryEntry


def _fmt(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def summarise(event: Any) -> str:
    """One line saying what the event recorded."""
    if isinstance(event, Record.Opened):
        return f"record opened for NHS number {event.nhs_number}"
    if isinstance(event, Record.PlanRegistered | Record.PlanUpdated):
        plan = event.plan
        verb = "registered" if isinstance(event, Record.PlanRegistered) else "updated"
        return (
            f"{plan.plan_type.value} plan {verb} by {plan.local_authority.ods_code} "
            f"({plan.local_authority.name}): start {_fmt(plan.dates.start)}, "
            f"end {_fmt(plan.dates.end)}"
        )
    if isinstance(event, Record.PlanEnded):
        return f"{event.plan_type.value} plan of {event.ods_code} ended {_fmt(event.end)}"
    if isinstance(event, Record.PlanDeleted):
        return f"{event.plan_type.value} plan of {event.ods_code} deleted {_fmt(event.delete)}"
    if isinstance(event, Record.InformationAccessed):
        access = event.access
        return f"accessed at {access.accessed_at.isoformat()} by {access.author.display_name}"
    if isinstance(event, Record.NhsNumberSuperseded):
        return f"NHS number superseded by {event.replacement}"
    if isinstance(event, Record.RecordMergedIn):
        return (f"NHS number {event.merged_from} merged in: {len(event.plans)} plans, "
                f"{len(event.accesses)} accesses")
    if isinstance(event, Record.NhsNumberMarkedInactive):
        return "NHS number marked inactive"
    return type(event).__name__


def history_entry(event: Any) -> HistoryEntry:
    provenance = getattr(event, "provenance", None)
    return HistoryEntry(
        version=event.originator_version,
        recorded_at=event.timestamp,
        event_name=type(event).__name__,
        summary=summarise(event),
        provenance=provenance.describe() if provenance is not None else "-",
    )
