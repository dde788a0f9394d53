"""Shards in forked processes: results in shard order, a failed or killed child's shard run
here instead, and no child left behind when this process fails first."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest

from streams.forked_shards import ForkedShards


def where(shard: int, shards: int) -> tuple[int, int, int]:
    return shard, shards, os.getpid()


def test_each_shard_but_the_first_runs_in_a_process_of_its_own() -> None:
    results = ForkedShards(3).run(where)
    assert [(shard, shards) for shard, shards, _ in results] == [(0, 3), (1, 3), (2, 3)]
    pids = [pid for _, _, pid in results]
    assert pids[0] == os.getpid()
    assert len(set(pids)) == 3


def test_one_process_runs_the_one_shard_here() -> None:
    assert ForkedShards(1).run(where) == [(0, 1, os.getpid())]


@pytest.mark.parametrize("failure", ["raises", "killed"])
def test_a_failed_childs_shard_runs_here(failure: str, caplog: pytest.LogCaptureFixture
                                         ) -> None:
    here = os.getpid()

    def work(shard: int, shards: int) -> tuple[int, int]:
        if os.getpid() != here:
            if failure == "raises":
                raise RuntimeError("shard failed")
            os.kill(os.getpid(), signal.SIGKILL)
        return shard, os.getpid()

    with caplog.at_level(logging.WARNING, "streams.forked_shards"):
        assert ForkedShards(2).run(work) == [(0, here), (1, here)]
    assert "running its shard here" in caplog.text


def test_no_child_is_left_when_this_process_fails_first(tmp_path: Path) -> None:
    here = os.getpid()

    def work(shard: int, shards: int) -> int:
        if os.getpid() != here:
            (tmp_path / "child").write_text(str(os.getpid()))
            time.sleep(60)
            return shard
        deadline = time.monotonic() + 10
        while not (tmp_path / "child").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError("this shard failed")

    with pytest.raises(RuntimeError, match="this shard failed"):
        ForkedShards(2).run(work)
    child = int((tmp_path / "child").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # killed and reaped, not a zombie
