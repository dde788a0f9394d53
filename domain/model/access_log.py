"""The accesses a record keeps: what its history shows and what the rules can still change.

A record's history shows the newest 25 kept views (domain/model/access.py: one view an author
a 24 hours). A new access can change what is kept only from its own time on, and an access
comes no earlier than the query window allows (domain/model/limits.py: 24 hours, and a few
minutes of clock skew). So a record keeps:

- every access of the last REOPEN_WINDOW (48 hours) before its newest, kept or collapsed:
  an access arriving late re-collapses these exactly;
- the kept views of the 24 hours before that, which a late access may collapse into;
- the newest 25 kept views, whatever their age: the history shown.

Everything older stays in the event store, where the audit reads it; the record's size, and
the cost of a query on it, no longer grow with its history. An access older than the window
(only a merge brings one) is collapsed against the kept views it finds: a view the other
record hid as a repeat is not brought back.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from domain.model.access import (
    COLLAPSE_WINDOW,
    HISTORY_LIMIT,
    Access,
    collapse_repeat_views,
    history_shown,
    keep_if_shown,
    time_order,
)

REOPEN_WINDOW = timedelta(hours=48)


def _time(access: Access) -> datetime:
    return access.accessed_at


class AccessLog:
    """A record's accesses, bounded (module doc). Mutable; `copied` gives an independent one."""

    def __init__(self, kept: Iterable[Access] = (), recent: Iterable[Access] = ()) -> None:
        self.kept: list[Access] = sorted(kept, key=time_order)  # collapsed, oldest first
        self.recent: list[Access] = sorted(recent, key=time_order)  # all, oldest first
        self._derive()

    def _derive(self) -> None:
        self._ids = {a.access_id for a in self.kept} | {a.access_id for a in self.recent}
        self._last_kept = {a.author.identity: a.accessed_at for a in self.kept}

    def copied(self) -> AccessLog:
        copy = object.__new__(AccessLog)
        copy.kept, copy.recent = list(self.kept), list(self.recent)
        copy._ids, copy._last_kept = set(self._ids), dict(self._last_kept)
        return copy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccessLog) and (self.kept, self.recent) == (
            other.kept, other.recent)

    __hash__ = None  # type: ignore[assignment]

    def holds(self, access_id: str) -> bool:
        return access_id in self._ids

    def history(self, current: Access | None = None) -> list[Access]:
        """The access history shown to a querying clinician (domain/model/access.py)."""
        return history_shown(self.kept, current)

    def held(self) -> list[Access]:
        """Every access kept here, oldest first: what a merge carries to the new number."""
        by_id = {a.access_id: a for a in (*self.kept, *self.recent)}
        return sorted(by_id.values(), key=time_order)

    def add(self, accesses: Iterable[Access]) -> None:
        """Add the new ones. One no earlier than the last kept view is collapsed on its own:
        the repeats after it in time stay hidden, as its author's last kept view only moves
        later. One earlier than that may change what is kept after it, so then the window is
        collapsed again, once."""
        in_order = True
        for access in accesses:
            if access.access_id in self._ids:
                continue
            self._ids.add(access.access_id)
            insort(self.recent, access, key=time_order)
            kept = self.kept
            in_order = in_order and (not kept or time_order(access) >= time_order(kept[-1]))
            if in_order:
                keep_if_shown(kept, self._last_kept, access)
        if not in_order:
            self.kept = collapse_repeat_views([*self.kept, *self._recent_not_kept()])
            self._last_kept = {a.author.identity: a.accessed_at for a in self.kept}
        self._trim()

    def _recent_not_kept(self) -> list[Access]:
        kept = {a.access_id for a in self.kept}
        return [a for a in self.recent if a.access_id not in kept]

    def _trim(self) -> None:
        """Drop what no access to come can change or show (module doc)."""
        if not self.recent:
            return
        boundary = self.recent[-1].accessed_at - REOPEN_WINDOW
        old = bisect_left(self.recent, boundary, key=_time)
        settled = min(bisect_left(self.kept, boundary - COLLAPSE_WINDOW, key=_time),
                      len(self.kept) - HISTORY_LIMIT)
        if old > 0:
            del self.recent[:old]
        if settled > 0:
            del self.kept[:settled]
        if old > 0 or settled > 0:
            self._derive()

    def to_state(self) -> dict[str, Any]:
        return {"kept": list(self.kept), "recent": list(self.recent)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AccessLog:
        return cls(state["kept"], state["recent"])
