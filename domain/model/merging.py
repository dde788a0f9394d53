"""Which plans an NHS number takes from a number PDS merged into it.

A plan is identified by its local authority and plan type, so where both numbers hold one
for the same pair the surviving number keeps one of them: the one a care setting must see.
In order: a plan live at the merge (shown, and not ended) before one that is not; then the
one shown longer (no delete date outlasts any, a later delete date an earlier one); then
the one not ended, or ended later; then the one that started later. On a tie the surviving
number keeps its own.

So no live plan is hidden: at every moment after the merge, where either number's plan was
live then, the surviving number shows a live plan; and it shows nothing neither number
would have shown. One choice cannot do more: where one number's live plan is to be deleted
and the other's has ended, the live one is kept, and once its delete date passes neither
shows (the local authority deleted the plan it had kept live).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.model.plans import Plan, PlanKey, local_plan_time

_NEVER = datetime.max


def _precedence(plan: Plan, now: datetime) -> tuple[bool, datetime, datetime, datetime]:
    dates, at = plan.dates, local_plan_time(now)
    live = not plan.is_deleted(now) and (dates.end is None or dates.end > at)
    return (live, dates.delete or _NEVER, dates.end or _NEVER, dates.start)


def plans_taken(held: dict[PlanKey, Plan], merged: Iterable[Plan], now: datetime
                ) -> list[Plan]:
    """The plans of `merged` that replace (or add to) those `held` by the surviving number."""
    taken = []
    for plan in merged:
        mine = held.get(plan.key)
        if mine is None or _precedence(plan, now) > _precedence(mine, now):
            taken.append(plan)
    return taken
