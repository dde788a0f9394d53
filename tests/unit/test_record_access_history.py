"""A record keeps its shown access history up as accesses come (in or out of time order, one
by one or merged in), and it is what collapsing every access afresh gives - while it holds
only the accesses the rules can still change (domain/model/access_log.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model.access import HISTORY_LIMIT, Access, access_history
from domain.model.access_log import REOPEN_WINDOW
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord
from tests.builders import CHILD, OTHER_CHILD, T0, person

HL7 = Provenance(Channel.HL7V3, "MSG")
AUTHORS = [person(str(i)) for i in range(4)]
LATEST = 24 * 60 + 5  # minutes: the query window (a day, and a few minutes of clock skew)
# (minutes after the newest access so far, or before it within the query window; author)
steps = st.lists(st.tuples(st.integers(-LATEST, 12 * 60), st.integers(0, 3)), max_size=60)


def as_accesses(drawn: list[tuple[int, int]], prefix: str) -> list[Access]:
    """Accesses as queries bring them: each no earlier than the query window allows."""
    accesses: list[Access] = []
    newest = T0
    for i, (minutes, author) in enumerate(drawn):
        at = newest + timedelta(minutes=minutes)
        accesses.append(Access(f"{prefix}{i:03}", at, AUTHORS[author]))
        newest = max(newest, at)
    return accesses


def assert_kept_up(record: Any, every: list[Access]) -> None:
    for current in [None, *every[-3:]]:
        assert record.access_history(current) == access_history(every, current)


def assert_bounded(record: Any) -> None:
    held = record.accesses
    if held:
        newest = max(a.accessed_at for a in held)
        recent = [a for a in held if a.accessed_at >= newest - REOPEN_WINDOW]
        assert len(held) <= len(recent) + HISTORY_LIMIT + len(AUTHORS)


@settings(max_examples=300)
@given(steps, st.booleans())
def test_accesses_one_by_one_in_any_order(drawn: list[tuple[int, int]], again: bool) -> None:
    record: Any = ChildProtectionRecord(nhs_number=CHILD)
    every = as_accesses(drawn, "A")
    for n, access in enumerate(every, 1):
        record.record_access(access, HL7)
        if again:
            record.record_access(access, HL7)  # the same access id again changes nothing
        assert_kept_up(record, every[:n])
        assert_bounded(record)


@settings(max_examples=300)
@given(steps, steps)
def test_accesses_merged_in_after_ones_recorded(held: list[tuple[int, int]],
                                                merged: list[tuple[int, int]]) -> None:
    """Exact while the merged accesses fall in the other record's window, as a merge of two
    numbers both in use brings them."""
    record: Any = ChildProtectionRecord(nhs_number=CHILD)
    mine = as_accesses(held, "A")
    for access in mine:
        record.record_access(access, HL7)
    theirs = [a for a in as_accesses(merged, "B")
              if not mine or a.accessed_at >= max(m.accessed_at for m in mine) - REOPEN_WINDOW]
    record.merge_in(OTHER_CHILD, [], theirs, HL7, T0)
    assert_kept_up(record, mine + theirs)
    assert_bounded(record)


@given(steps, steps)
def test_a_merge_of_any_two_histories_shows_at_most_25_newest_first(
        held: list[tuple[int, int]], merged: list[tuple[int, int]]) -> None:
    record: Any = ChildProtectionRecord(nhs_number=CHILD)
    for access in as_accesses(held, "A"):
        record.record_access(access, HL7)
    theirs = as_accesses([(m - 30 * 24 * 60 if i == 0 else m, a)
                          for i, (m, a) in enumerate(merged)], "B")  # a month older
    record.merge_in(OTHER_CHILD, [], theirs, HL7, T0)
    shown = record.access_history()
    assert len(shown) <= HISTORY_LIMIT
    assert [a.accessed_at for a in shown] == sorted((a.accessed_at for a in shown),
                                                    reverse=True)
    assert_bounded(record)


def test_a_record_of_ten_thousand_accesses_holds_the_last_two_days_and_the_history() -> None:
    record: Any = ChildProtectionRecord(nhs_number=CHILD)
    every = [Access(f"A{i:05}", T0 + timedelta(hours=3 * i), AUTHORS[i % 4])
             for i in range(10_000)]
    for access in every:
        record.record_access(access, HL7)
    assert record.access_history() == access_history(every)
    last_two_days = [a for a in every if a.accessed_at >= every[-1].accessed_at - REOPEN_WINDOW]
    assert {a.access_id for a in record.accesses} == {
        a.access_id for a in [*record.access_history(), *last_two_days]}
