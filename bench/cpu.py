"""Where the CPU goes while a benchmark runs: this process (with its librdkafka threads), the
PostgreSQL server processes and the Kafka broker (a Java process), read from Linux's /proc.

On two cores shared by all three, a rate is bounded by the CPU all of them spend on an
event, not by this process alone; the relay benchmark reports each share beside the rate,
for the relay and its baseline alike. Elsewhere than Linux nothing is read and the split is
empty.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROC = Path("/proc")
Round = tuple[float, float, dict[str, float]]  # a round: start-up s, timed s, CPU s by share
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# process names (/proc/PID/comm) counted, each under its share's name
SHARES = {"postgres": "postgres", "java": "kafka broker"}
THIS = "this process"


def _process_seconds() -> dict[int, tuple[str, float]]:
    """pid -> (share, CPU seconds so far) for every process of a counted name."""
    found: dict[int, tuple[str, float]] = {}
    for entry in PROC.glob("[0-9]*"):
        try:
            share = SHARES.get((entry / "comm").read_text().strip())
            if share is None:
                continue
            # fields after the ")" that ends the name: utime and stime are the 12th and 13th
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(entry.name)] = (share, (int(fields[11]) + int(fields[12])) / TICKS)
        except (OSError, ValueError, IndexError):  # ended meanwhile, or not ours to read
            continue
    return found


def _own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def cpu_split() -> Iterator[dict[str, float]]:
    """A dict filled, when the block ends, with the CPU seconds each share spent in it."""
    split: dict[str, float] = {}
    if not PROC.is_dir():
        yield split
        return
    before, own = _process_seconds(), _own_seconds()
    yield split
    split[THIS] = _own_seconds() - own
    for pid, (share, seconds) in _process_seconds().items():
        spent = seconds - (before[pid][1] if pid in before else 0.0)
        split[share] = split.get(share, 0.0) + spent


def per_event_us(split: dict[str, float], events: int) -> dict[str, float]:
    """Each share's CPU microseconds an event, and their total."""
    out = {share: round(1e6 * seconds / events, 2) for share, seconds in split.items()}
    if out:
        out["total"] = round(sum(out.values()), 2)
    return out
