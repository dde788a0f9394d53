"""A record keeps its shown access history up as accesses come (in or out of time order, one
by one or merged in), and it is always what collapsing every access afresh gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.model.access import Access, access_history, collapse_repeat_views
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord
from tests.builders import CHILD, OTHER_CHILD, T0, person

HL7 = Provenance(Channel.HL7V3, "MSG")
AUTHORS = [person(str(i)) for i in range(4)]
accesses = st.lists(st.tuples(st.integers(0, 4 * 24 * 60), st.integers(0, 3)), max_size=40)


def as_accesses(drawn: list[tuple[int, int]], prefix: str) -> list[Access]:
    return [Access(f"{prefix}{i}", T0 + timedelta(minutes=minute), AUTHORS[author])
            for i, (minute, author) in enumerate(drawn)]


def assert_kept_up(record: Any) -> None:
    assert record.shown_accesses == collapse_repeat_views(record.accesses)
    for current in [None, *record.accesses[-3:]]:
        assert record.access_history(current) == access_history(record.accesses, current)


@given(accesses, st.booleans())
def test_accesses_one_by_one_in_any_order(drawn: list[tuple[int, int]], again: bool) -> None:
    record: Any = ChildProtectionRecord(nhs_number=CHILD)
    for access in as_accesses(drawn, "A"):
        record.record_access(access, HL7)
        if again:
            record.record_access(access, HL7)  # the same access id again changes nothing
        assert_kept_up(record)
    assert len(record.accesses) == len(drawn)


@given(accesses, accesses)
def test_accesses_merged_in_after_ones_recorded(held: list[tuple[int, int]],
                                                merged: list[tuple[int, int]]) -> None:
    record: Any = ChildProtectionRecord(nhs_number=CHILD)
    for access in as_accesses(held, "A"):
        record.record_access(access, HL7)
    record.merge_in(OTHER_CHILD, [], as_accesses(merged, "B"), HL7, T0)
    assert_kept_up(record)
    assert sorted(a.accessed_at for a in record.accesses) == [
        a.accessed_at for a in record.accesses]
