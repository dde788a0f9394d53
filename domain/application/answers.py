"""What a care setting is told about a record at a moment: one function for the live query
and for the audit's replay of it, so both say the same."""

from __future__ import annotations

from datetime import datetime

from domain.application.views import PlanView, QueryAnswer
from domain.model.access import Access
from domain.model.record import ChildProtectionRecord


def answer_from(record: ChildProtectionRecord, now: datetime, current: Access | None
                ) -> QueryAnswer:
    return QueryAnswer(
        nhs_number=record.nhs_number,
        plans=tuple(PlanView.of(plan) for plan in record.current_plans(now)),
        history=tuple(record.access_history(current)),
        access_recorded=current is not None,
    )
