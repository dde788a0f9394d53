"""Shards of a piece of work run in this process and in processes forked from it (domain
ShardRunner).

The work is cut into more shards than processes, and each process takes the next shard
still to do until none is left: the processes share a pipe holding one byte per shard
number, and a one-byte read from a pipe is atomic, so each shard is taken once. A process
that runs slower (a child starts by copying the pages it writes to) simply takes fewer.

A child inherits everything the work needs (the parsed File, the PDS port, the mapper) as it
stands, with no copying, and sends back only its results, pickled through a pipe of its own.
It never touches what it inherited beyond the work: it leaves with os._exit, so no finaliser
runs, no buffer is flushed and no inherited database connection is closed or written to.
Should a child fail (an exception, or killed), or send nothing for `patience` seconds (stuck,
say, on a lock another thread held when it was forked: it is killed), the shards it took run
here instead, with a warning: the result is the same, only later.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
R = TypeVar("R")
SHARDS_PER_PROCESS = 8
PATIENCE = 60.0  # seconds a child may send nothing before it is taken for stuck
Results = dict[int, R]


class ForkedShards:
    def __init__(self, processes: int, shards_per_process: int = SHARDS_PER_PROCESS,
                 patience: float = PATIENCE) -> None:
        if processes < 1:
            raise ValueError(f"processes must be 1 or more, got {processes}")
        self.processes = processes
        self.patience = patience
        # each shard number is a byte in the tickets pipe
        self.shards = min(255, processes * shards_per_process) if processes > 1 else 1

    def run(self, work: Callable[[int, int], R]) -> list[R]:
        shards, started = self.shards, time.monotonic()
        if self.processes == 1:
            return [work(0, 1)]
        tickets = _tickets(shards)
        children: list[tuple[int, int]] = []  # (pid, read end of its results pipe)
        try:
            for _ in range(1, self.processes):
                children.append(_fork(work, shards, tickets))
            results = _take_shards(work, shards, tickets)
            while children:
                pid, pipe = children.pop()
                results.update(_collect(pid, pipe, self.patience))
        finally:
            os.close(tickets)
            for pid, pipe in children:  # only when this process failed first
                _abandon(pid, pipe)
        for shard in range(shards):
            if shard not in results:
                results[shard] = work(shard, shards)
        log.info("%d shards run in %d processes in %.2f s", shards, self.processes,
                 time.monotonic() - started)
        return [results[shard] for shard in range(shards)]


def _tickets(shards: int) -> int:
    """The read end of a pipe holding each shard number once, its write end closed."""
    read_end, write_end = os.pipe()
    os.write(write_end, bytes(range(shards)))
    os.close(write_end)
    return read_end


def _take_shards(work: Callable[[int, int], R], shards: int, tickets: int) -> Results[R]:
    results: Results[R] = {}
    while ticket := os.read(tickets, 1):
        shard = ticket[0]
        results[shard] = work(shard, shards)
    return results


def _fork(work: Callable[[int, int], object], shards: int, tickets: int) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        status = 1
        try:
            gc.disable()  # nothing it makes outlives it
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            payload = pickle.dumps(_take_shards(work, shards, tickets),
                                   protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            status = 0
        except BaseException as error:  # the parent runs its shards itself
            _report(error)
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _report(error: BaseException) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"shard failed in process {os.getpid()}: {error!r}\n".encode())


def _collect(pid: int, pipe: int, patience: float) -> Results[Any]:
    """The child's results. A child sends them whole and then exits, so a whole pickle means
    it succeeded, and it is reaped in the background: tearing down its copy of this process
    takes about 10 ms, which nothing here need wait for. A child that sends nothing for
    `patience` seconds is taken for stuck, killed, and its shards run here."""
    payload = _read_all(pipe, patience)
    if payload is None:
        _abandon(pid, pipe)
        log.warning("shard process %d sent nothing for %.1f s: killed, running its shards "
                    "here", pid, patience)
        return {}
    os.close(pipe)
    try:
        results: Results[Any] = pickle.loads(payload)  # noqa: S301 - our own child's
    except (pickle.UnpicklingError, EOFError, ValueError):
        _, status = os.waitpid(pid, 0)
        log.warning("shard process %d ended with exit code %d: running its shards here", pid,
                    os.waitstatus_to_exitcode(status))
        return {}
    threading.Thread(target=os.waitpid, args=(pid, 0), name=f"reap-{pid}",
                     daemon=True).start()
    return results


def _read_all(pipe: int, patience: float) -> bytes | None:
    """Everything until the child closes its end, or None should `patience` seconds pass
    with nothing read."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([pipe], [], [], patience)
        if not ready:
            return None
        chunk = os.read(pipe, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _abandon(pid: int, pipe: int) -> None:
    os.close(pipe)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
