"""Whether a query should start from the record as its process holds it (see
CpisApplication._change): worth it while other processes seldom save the same records.

A held attempt saves one database round trip when nobody saved the record since, and costs
one (the refused save) when somebody did: with queries for a child spread over k workers,
k - 1 in k held records are out of date, and at one in two the two ways cost the same. So
the held record is taken while the saves of the last WINDOW held attempts were refused no
more than MOST_REFUSED of the time (or fewer than WINDOW were made yet); otherwise only
every WINDOW-th query tries it, to see whether the odds have changed.
"""

from __future__ import annotations

from collections import deque

WINDOW = 64
MOST_REFUSED = 1 / 3  # below the break-even of 1/2: a refused attempt also wastes its CPU


class HeldRecordOdds:
    def __init__(self, window: int = WINDOW, most_refused: float = MOST_REFUSED) -> None:
        self._refused: deque[bool] = deque(maxlen=window)
        self._window = window
        self._most_refused = most_refused
        self._passed = 0  # queries since the last held attempt, while not worth it

    def worth_trying(self) -> bool:
        judged = len(self._refused)
        if judged < self._window or sum(self._refused) <= self._most_refused * judged:
            return True  # too few attempts yet to tell, or mostly saved
        self._passed += 1
        if self._passed >= self._window:  # look again now and then
            self._passed = 0
            return True
        return False

    def saved(self) -> None:
        self._refused.append(False)

    def refused(self) -> None:
        self._refused.append(True)
