"""Shards of a piece of work run in this process and in processes forked from it (domain
ShardRunner).

The work is cut into more shards than processes, and each process takes the next shard
still to do until none is left: the processes share a pipe holding one byte per shard
number, and a one-byte read from a pipe is atomic, so each shard is taken once. A process
that runs slower (a child starts by copying the pages it writes to) simply takes fewer.

A child inherits everything the work needs (the parsed File, the PDS port, the mapper) as it
stands, with no copying, and sends back only its results, through a pipe of its own: each
shard's result pickled as soon as it is done, in a frame (4-byte length, then the pickle),
and an empty frame once it has done all it took. This process reads what has come between
its own shards, so pickling and unpickling overlap the work instead of following it (sent
whole at the end, they left a core idle meanwhile). A child never touches what it inherited
beyond the work: it leaves with os._exit, so no finaliser runs, no buffer is flushed and no
inherited database connection is closed or written to. Should a child fail (an exception, or
killed) before its empty frame, or send nothing for `patience` seconds (stuck, say, on a
lock another thread held when it was forked: it is killed), the shards it took and did not
send run here instead, with a warning: the result is the same, only later.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
R = TypeVar("R")
SHARDS_PER_PROCESS = 8
PATIENCE = 60.0  # seconds a child may send nothing before it is taken for stuck
PIPE_BYTES = 1 << 20  # a child's results pipe: room for a few shards' results unread
LENGTH = 4  # bytes of a frame's length
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
        children: list[Child[R]] = []
        try:
            for _ in range(1, self.processes):
                children.append(_fork(work, shards, tickets))
            results: Results[R] = {}
            for shard, result in _taken(work, shards, tickets):
                results[shard] = result
                for child in children:  # what they sent meanwhile
                    child.read_ready()
            for child in children:
                results.update(child.read_to_end(self.patience))
        finally:
            os.close(tickets)
            for child in children:  # only when this process failed first
                child.abandon()
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


def _taken(work: Callable[[int, int], R], shards: int, tickets: int
           ) -> Iterator[tuple[int, R]]:
    """(shard, result) for each shard this process takes, until none is left."""
    while ticket := os.read(tickets, 1):
        yield ticket[0], work(ticket[0], shards)


# -- a child ------------------------------------------------------------------------------

def _fork(work: Callable[[int, int], R], shards: int, tickets: int) -> Child[R]:
    read_end, write_end = os.pipe()
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    with contextlib.suppress(OSError):  # a smaller pipe only makes the child wait more
        if resize is not None:
            fcntl.fcntl(write_end, resize, PIPE_BYTES)
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        status = 1
        try:
            gc.disable()  # nothing it makes outlives it
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            for taken in _taken(work, shards, tickets):
                _send(write_end, pickle.dumps(taken, protocol=pickle.HIGHEST_PROTOCOL))
            _send(write_end, b"")  # all done
            status = 0
        except BaseException as error:  # the parent runs its shards itself
            _report(error)
        finally:
            os._exit(status)
    os.close(write_end)
    return Child(pid, read_end)


def _send(pipe: int, payload: bytes) -> None:
    frame = memoryview(len(payload).to_bytes(LENGTH, "little") + payload)
    while frame:
        frame = frame[os.write(pipe, frame):]


def _report(error: BaseException) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"shard failed in process {os.getpid()}: {error!r}\n".encode())


class Child(Generic[R]):
    """A forked child as this process sees it: the results it has sent so far."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe: int | None = pipe
        self.results: Results[R] = {}
        self.done = False  # its empty frame came: it did every shard it took
        self._unread = bytearray()

    def read_ready(self) -> None:
        """Take in whatever the child has sent, without waiting."""
        while self.pipe is not None and select.select([self.pipe], [], [], 0)[0]:
            self._read()

    def read_to_end(self, patience: float) -> Results[R]:
        """Everything the child sends until it closes its end. A child that ends without
        its empty frame failed; one that sends nothing for `patience` seconds is taken for
        stuck and killed. Either way the shards it did send are kept."""
        while self.pipe is not None:
            if not select.select([self.pipe], [], [], patience)[0]:
                self.abandon()
                log.warning("shard process %d sent nothing for %.1f s: killed, running its "
                            "shards here", self.pid, patience)
                return self.results
            self._read()
        if self.done:  # tearing down its copy of this process is not waited for
            threading.Thread(target=os.waitpid, args=(self.pid, 0), name=f"reap-{self.pid}",
                             daemon=True).start()
        else:
            _, status = os.waitpid(self.pid, 0)
            log.warning("shard process %d ended with exit code %d: running its shards here",
                        self.pid, os.waitstatus_to_exitcode(status))
        return self.results

    def _read(self) -> None:
        assert self.pipe is not None
        chunk = os.read(self.pipe, PIPE_BYTES)
        if not chunk:
            os.close(self.pipe)
            self.pipe = None
            return
        self._unread += chunk
        self._unframe()

    def _unframe(self) -> None:
        view, at = memoryview(self._unread), 0
        while len(view) - at >= LENGTH:
            size = int.from_bytes(view[at:at + LENGTH], "little")
            if len(view) - at - LENGTH < size:
                break
            if size == 0:
                self.done = True
            else:
                self._take(view[at + LENGTH:at + LENGTH + size])
            at += LENGTH + size
        view.release()
        del self._unread[:at]

    def _take(self, frame: memoryview) -> None:
        try:
            shard, result = pickle.loads(frame)  # noqa: S301 - our own child's
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
            log.warning("shard process %d sent a result that cannot be read (%s): its shard "
                        "runs here", self.pid, error)
            return
        self.results[shard] = result

    def abandon(self) -> None:
        """Kill and reap the child, should it still be there."""
        if self.pipe is None:
            return
        os.close(self.pipe)
        self.pipe = None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
