"""Shards of a piece of work run in processes forked from this one (domain ShardRunner).

Shard 0 runs here while each other shard runs in a child forked for it. A child inherits
everything the work needs (the parsed File, the PDS port, the mapper) as it stands, with no
copying, and sends back only its result, pickled through a pipe. A child never touches what
it inherited beyond the work: it leaves with os._exit, so no finaliser runs, no buffer is
flushed and no inherited database connection is closed or written to.

Should a child fail (an exception, or killed), its shard runs here instead, with a warning:
the result is the same, only later.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

log = logging.getLogger(__name__)
R = TypeVar("R")


class ForkedShards:
    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError(f"processes must be 1 or more, got {processes}")
        self.processes = processes

    def run(self, work: Callable[[int, int], R]) -> list[R]:
        shards = self.processes
        started = time.monotonic()
        children: dict[int, tuple[int, int]] = {}  # shard -> (pid, read end of its pipe)
        try:
            for shard in range(1, shards):
                children[shard] = _fork(work, shard, shards)
            results = {0: work(0, shards)}
            for shard, (pid, pipe) in list(children.items()):
                del children[shard]
                results[shard] = _collect(pid, pipe, partial(work, shard, shards))
        finally:
            for pid, pipe in children.values():  # only when this process failed first
                _abandon(pid, pipe)
        log.info("%d shards run in %d processes in %.2f s", shards, shards,
                 time.monotonic() - started)
        return [results[shard] for shard in range(shards)]


def _fork(work: Callable[[int, int], object], shard: int, shards: int) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        status = 1
        try:
            gc.disable()  # nothing it makes outlives it
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            payload = pickle.dumps(work(shard, shards), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            status = 0
        except BaseException as error:  # the parent runs the shard itself
            _report(error)
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _report(error: BaseException) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"shard failed in process {os.getpid()}: {error!r}\n".encode())


def _collect(pid: int, pipe: int, run_here: Callable[[], R]) -> R:
    with os.fdopen(pipe, "rb") as source:
        payload = source.read()
    _, status = os.waitpid(pid, 0)
    if status == 0 and payload:
        result: R = pickle.loads(payload)  # noqa: S301 - our own child's bytes
        return result
    log.warning("shard process %d ended with status %d: running its shard here", pid, status)
    return run_here()


def _abandon(pid: int, pipe: int) -> None:
    os.close(pipe)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
