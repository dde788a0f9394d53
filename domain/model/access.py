"""Accesses to CP-IS information and the rules for the access history shown back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.model.authors import Author
from domain.model.errors import DomainError

HISTORY_LIMIT = 25
COLLAPSE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Access:
    """One unscheduled-care view of CP-IS information (silent reads are never Accesses)."""

    access_id: str
    accessed_at: datetime
    author: Author

    def __post_init__(self) -> None:
        if not self.access_id.strip():
            raise DomainError("an access needs an id (the query's event id)")
        if self.accessed_at.tzinfo is None:
            raise DomainError(
                f"access time {self.accessed_at.isoformat()} must carry a time zone"
            )


def time_order(access: Access) -> tuple[datetime, str]:
    """Accesses in time order; the id orders two at the same moment, so what is kept never
    depends on the order accesses arrived in."""
    return access.accessed_at, access.access_id


def collapse_repeat_views(accesses: Iterable[Access]) -> list[Access]:
    """Keep the first view by each author; drop their repeats within 24 hours of it.

    A view more than 24 hours after that author's last kept view is kept again.
    Returns the kept accesses oldest first.
    """
    kept: list[Access] = []
    last_kept: dict[str, datetime] = {}
    for access in sorted(accesses, key=time_order):
        keep_if_shown(kept, last_kept, access)
    return kept


def keep_if_shown(kept: list[Access], last_kept: dict[str, datetime], access: Access) -> None:
    """Add `access`, no earlier than any access before it, to the kept ones (oldest first)
    unless it repeats its author's last kept view within 24 hours; `last_kept` holds each
    author's last kept view time. Both are updated in place."""
    previous = last_kept.get(access.author.identity)
    if previous is not None and access.accessed_at - previous < COLLAPSE_WINDOW:
        return
    last_kept[access.author.identity] = access.accessed_at
    kept.append(access)


def access_history(
    accesses: Sequence[Access], current: Access | None = None, limit: int = HISTORY_LIMIT
) -> list[Access]:
    """The history shown to a querying clinician: newest first, at most `limit` entries.

    Repeat views by one author within 24 hours show once (the first). The current access
    (or the earlier view it collapses into) is always shown, even where more than `limit`
    other authors looked since.
    """
    return history_shown(collapse_repeat_views(accesses), current, limit)


def history_shown(kept: Sequence[Access], current: Access | None = None,
                  limit: int = HISTORY_LIMIT) -> list[Access]:
    """access_history from the kept accesses (collapse_repeat_views' result): it reads only
    the newest of them, so a record's history costs the same after thousands of accesses."""
    newest_first = list(reversed(kept[max(len(kept) - limit, 0):]))
    if current is None:
        return newest_first
    representative = _representative(kept, current)
    if representative in newest_first:
        return newest_first
    return [*newest_first[: limit - 1], representative]


def _representative(kept: Sequence[Access], current: Access) -> Access:
    """The kept access that stands for the current one (itself, or its author's last)."""
    for access in reversed(kept):
        if access.author.identity == current.author.identity and (
            access.accessed_at <= current.accessed_at
        ):
            return access
    return current
