"""When a query takes the record its process holds: while other processes seldom saved it
first (no I/O)."""

from __future__ import annotations

from domain.held_records import HeldRecordOdds


def tries(odds: HeldRecordOdds, times: int) -> list[bool]:
    return [odds.worth_trying() for _ in range(times)]


def test_held_records_are_taken_until_their_saves_are_refused() -> None:
    odds = HeldRecordOdds(window=8, most_refused=1 / 3)
    assert all(tries(odds, 20))
    for _ in range(6):
        odds.saved()
    odds.refused()
    odds.refused()  # 2 of 8 refused
    assert all(tries(odds, 20))


def test_mostly_refused_they_are_tried_once_a_window_only() -> None:
    odds = HeldRecordOdds(window=8, most_refused=1 / 3)
    for _ in range(5):
        odds.saved()
    for _ in range(3):
        odds.refused()  # 3 of 8
    assert tries(odds, 16) == [False] * 7 + [True] + [False] * 7 + [True]


def test_taken_again_once_saves_go_through() -> None:
    odds = HeldRecordOdds(window=4, most_refused=1 / 3)
    for _ in range(4):
        odds.refused()
    assert not odds.worth_trying()
    for _ in range(3):
        odds.saved()  # 1 of the last 4 refused
    assert odds.worth_trying()


def test_a_few_refusals_do_not_tell_before_a_window_is_full() -> None:
    odds = HeldRecordOdds(window=8, most_refused=1 / 3)
    for _ in range(7):
        odds.refused()
    assert odds.worth_trying()
    odds.refused()
    assert not odds.worth_trying()
