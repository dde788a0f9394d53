"""Shards in forked processes: each shard run once and the results in shard order, the
processes sharing them out, a failed or killed child's shards run here, and no child left
behind when this process fails first."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest

from streams.uploads.forked import ForkedShards


def slow(shard: int, shards: int) -> tuple[int, int, int]:
    time.sleep(0.05)  # long enough for a child to start and take its share
    return shard, shards, os.getpid()


def test_every_shard_runs_once_and_the_processes_share_them() -> None:
    results = ForkedShards(3, shards_per_process=4).run(slow)
    assert [(shard, shards) for shard, shards, _ in results] == [(k, 12) for k in range(12)]
    pids = {pid for _, _, pid in results}
    assert os.getpid() in pids
    assert len(pids) > 1


def test_one_process_runs_one_shard_here() -> None:
    assert ForkedShards(1).run(slow) == [(0, 1, os.getpid())]


@pytest.mark.parametrize("failure", ["raises", "killed"])
def test_a_failed_childs_shards_run_here(failure: str, caplog: pytest.LogCaptureFixture
                                         ) -> None:
    here = os.getpid()

    def work(shard: int, shards: int) -> tuple[int, int]:
        if os.getpid() != here:
            if failure == "raises":
                raise RuntimeError("shard failed")
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.02)
        return shard, os.getpid()

    with caplog.at_level(logging.WARNING, "streams.uploads.forked"):
        results = ForkedShards(2, shards_per_process=4).run(work)
    assert results == [(k, here) for k in range(8)]
    assert "running its shards here" in caplog.text


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


def test_many_processes_share_at_most_255_shards() -> None:
    assert ForkedShards(64).shards == 255
    assert ForkedShards(2).shards == 16


def test_a_stuck_child_is_killed_and_its_shards_run_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    here = os.getpid()

    def work(shard: int, shards: int) -> tuple[int, int]:
        if os.getpid() != here:
            time.sleep(60)  # as a child stuck on a lock it inherited
        time.sleep(0.01)
        return shard, os.getpid()

    with caplog.at_level(logging.WARNING, "streams.uploads.forked"):
        results = ForkedShards(2, shards_per_process=4, patience=0.5).run(work)
    assert results == [(k, here) for k in range(8)]
    assert "sent nothing for 0.5 s: killed, running its shards here" in caplog.text


def test_a_failed_child_keeps_the_shards_it_sent_and_only_the_rest_run_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    here = os.getpid()
    done_in_child: list[int] = []

    def work(shard: int, shards: int) -> tuple[int, int]:
        if os.getpid() != here:
            done_in_child.append(shard)  # the child's own copy of the list
            if len(done_in_child) > 2:
                raise RuntimeError("third shard failed")
        time.sleep(0.02)
        return shard, os.getpid()

    with caplog.at_level(logging.WARNING, "streams.uploads.forked"):
        results = ForkedShards(2, shards_per_process=8).run(work)
    assert [shard for shard, _ in results] == list(range(16))
    from_child = [shard for shard, pid in results if pid != here]
    assert len(from_child) == 2  # sent before the failure, kept
    assert "ended with exit code 1: running its shards here" in caplog.text


def test_results_larger_than_the_pipe_arrive_whole() -> None:
    def work(shard: int, shards: int) -> bytes:
        time.sleep(0.01)
        return bytes([shard]) * (3 << 20)  # 3 MB: more than a pipe holds, sent in pieces

    results = ForkedShards(2, shards_per_process=3).run(work)
    assert [(r[:1], len(r)) for r in results] == [(bytes([k]), 3 << 20) for k in range(6)]
