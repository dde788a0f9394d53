"""Describe stored record events in words, for the demo and the operator audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.application.answers import HistoryEntry
from domain.model.record import ChildProtectionRecord as Record


def _fmt(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _plan_set(event: Any) -> str:
    plan = event.plan
    verb = "registered" if isinstance(event, Record.PlanRegistered) else "updated"
    return (f"{plan.plan_type.value} plan {verb} by {plan.local_authority.ods_code} "
            f"({plan.local_authority.name}): start {_fmt(plan.dates.start)}, "
            f"end {_fmt(plan.dates.end)}")


def _refused(event: Any) -> str:
    refusal = event.refusal
    who = refusal.author.display_name if refusal.author else (
        f"organisation {refusal.organisation_ods}" if refusal.organisation_ods
        else "an unknown author")
    return f"query by {who} refused ({refusal.reason.value}): {refusal.detail}"


def _merged_in(event: Any) -> str:
    plans = ", ".join(f"{p.plan_type.value} of {p.local_authority.ods_code}"
                      for p in event.plans)
    taken = "taken" if event.replaces_held else "kept where none was held"
    return (f"NHS number {event.merged_from} merged in: {_count(len(event.plans), 'plan')} "
            f"{taken}{f' ({plans})' if plans else ''}, "
            f"{_count(len(event.accesses), 'access', 'accesses')} carried")


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


SUMMARIES: dict[type[Any], Callable[[Any], str]] = {
    Record.Opened: lambda e: f"record opened for NHS number {e.nhs_number}",
    Record.PlanRegistered: _plan_set,
    Record.PlanUpdated: _plan_set,
    Record.PlanEnded: lambda e: f"{e.plan_type.value} plan of {e.ods_code} ended {_fmt(e.end)}",
    Record.PlanDeleted: lambda e: (f"{e.plan_type.value} plan of {e.ods_code} deleted "
                                   f"{_fmt(e.delete)}"),
    Record.InformationAccessed: lambda e: (f"accessed at {e.access.accessed_at.isoformat()} "
                                           f"by {e.access.author.display_name}"),
    Record.InformationReadSilently: lambda e: (
        f"read silently (scheduled care) at {e.access.accessed_at.isoformat()} by "
        f"{e.access.author.display_name}"),
    Record.NoRecordsFoundAnswered: lambda e: (
        f"asked at {e.access.accessed_at.isoformat()} by {e.access.author.display_name}: "
        "answered No Records Found"),
    Record.QueryRefused: _refused,
    Record.NhsNumberSuperseded: lambda e: f"NHS number superseded by {e.replacement}",
    Record.RecordMergedIn: _merged_in,
    Record.NhsNumberMarkedInactive: lambda e: "NHS number marked inactive",
}


def event_name(topic: str) -> str:
    """The published name of an event type: cpis:RecordOpened.v1 -> RecordOpened."""
    return topic.split(":", 1)[-1].split(".v", 1)[0]


def summarise(event: Any) -> str:
    """One line saying what the event recorded."""
    describe = SUMMARIES.get(type(event))
    return describe(event) if describe is not None else type(event).__name__


def history_entry(event: Any) -> HistoryEntry:
    provenance = getattr(event, "provenance", None)
    return HistoryEntry(
        version=event.originator_version,
        recorded_at=event.timestamp,
        event_name=event_name(type(event).TOPIC),
        summary=summarise(event),
        provenance=provenance.describe() if provenance is not None else "-",
    )
