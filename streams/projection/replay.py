"""`cpis replay`: rebuild every view from offset zero into a fresh generation, then switch.

1. create generation N+1 (empty tables, without the indexes only queries read by); 2. read
every record-event topic from offset zero (read_committed) up to its end, applying batches
with the same handlers and storing offsets with them; 3. build N+1's read indexes (one sorted
build each, cheaper than a B-tree insert per row), switch the public views to N+1 in one
transaction and drop N. A running projector notices the switch and carries on from N+1's
stored offsets.

Step 2 runs in `workers` processes, by default one per partition number (they wait on
PostgreSQL and Kafka in turn, so three keep two cores busier than two), each reading its own
partition numbers of every record topic. All of an NHS number's events are on one partition
number (every message is keyed by NHS number, and the record topics have the same partition
count and partitioner), and each event changes only its own NHS number's rows, so workers
never touch the same rows. With unequal partition counts the replay runs in one process.
So a worker knows how many access rows it has written for each of its numbers, and counts a
number's rows in the table only when that may be over the history limit
(adapters/views/access_bounds.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.context import SpawnProcess

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from adapters.views.access_bounds import AccessBounds
from adapters.views.outbox import NotificationOutbox
from adapters.views.postgres import PostgresViewStore
from adapters.views.postgres_views import PostgresViews
from streams.avro.schemas import AvroSchemas
from streams.avro.wire import RegistryIds
from streams.gc_tuning import fewer_collections
from streams.kafka.assign import assign_at_once
from streams.kafka.topics import Topics
from streams.logs import configure_logging
from streams.projection.projector import as_message
from streams.projection.writer import Consumed, CountingDeadLetters, apply_messages
from streams.settings import load_settings

log = logging.getLogger(__name__)
Partition = tuple[str, int]
Progress = Callable[[int], None]
BATCH_SIZE = 5000  # messages per transaction of each worker
END_POLL = 0.05  # seconds a consume call may wait before the batch checks for the end again


@dataclass(frozen=True)
class ReplayReport:
    generation: int
    previous_generation: int
    messages: int
    poison: int
    seconds: float
    workers: int = 1

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ReplayJob:
    """What one worker replays: picklable, for a worker process."""

    conninfo: str
    schema: str
    generation: int
    bootstrap: str
    partitions: tuple[Partition, ...]
    batch_size: int
    registry_url: str = ""  # the schema registry messages' ids are looked up in


@dataclass(frozen=True)
class WorkerResult:
    messages: int
    poison: int


def _partitions(bootstrap: str, topics: tuple[str, ...]) -> list[Partition]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "cpis-replay-metadata"})
    try:
        metadata = consumer.list_topics(timeout=30)
    finally:
        consumer.close()
    found = []
    for topic in topics:
        if topic not in metadata.topics:
            raise RuntimeError(f"topic {topic} does not exist; has the relay run?")
        found += [(topic, p) for p in sorted(metadata.topics[topic].partitions)]
    return found


def split_partitions(partitions: list[Partition], workers: int | None
                     ) -> list[tuple[Partition, ...]]:
    """Partition numbers dealt round-robin to `workers` groups (None: one per partition
    number), each number with all its topics; one group when the topics' partition counts
    differ."""
    counts = {topic: sum(1 for t, _ in partitions if t == topic) for topic, _ in partitions}
    numbers = sorted({p for _, p in partitions})
    if len(set(counts.values())) > 1:
        log.warning("record topics have different partition counts %s: replaying in one "
                    "process", counts)
        workers = 1
    groups = max(1, min(len(numbers), workers or len(numbers)))
    return [tuple(tp for tp in partitions if tp[1] % groups == i) for i in range(groups)]


class ReplayStoppedError(Exception):
    """Asked to stop before the end: the new generation is dropped, the views unchanged."""


def replay(store: PostgresViewStore, registry: AvroSchemas, bootstrap: str, topics: Topics,
           batch_size: int = BATCH_SIZE, progress: Progress | None = None,
           switch: bool = True, workers: int | None = None,
           stop: Callable[[], bool] = lambda: False,
           forget_sent_before: datetime | None = None) -> ReplayReport:
    """Rebuild into a new generation and switch to it. Should it fail or be stopped, the new
    generation is dropped and the views stay as they were. With `forget_sent_before`, the
    notifications sent before it are deleted from the new generation first, as the live
    sender deletes them (adapters/views/outbox.py, retention)."""
    started = time.monotonic()
    store.setup()
    generation = store.new_generation()
    try:
        groups = split_partitions(_partitions(bootstrap, topics.record_events), workers)
        url = registry.registry.url if registry.registry is not None else ""
        jobs = [ReplayJob(store.conninfo, store.schema, generation, bootstrap, group,
                          batch_size, url) for group in groups]
        if len(jobs) == 1:
            result = replay_partitions(jobs[0], registry, progress, stop)
        else:
            result = run_workers(jobs, progress, stop)
        if forget_sent_before is not None:
            outbox = NotificationOutbox(store)
            outbox.setup()
            outbox.forget_delivered(forget_sent_before, generation)
        store.index_generation(generation)
    except BaseException:
        store.drop_generation(generation)
        raise
    previous = generation
    if switch:
        previous = store.switch_to(generation)
        store.drop_generation(previous)
    return ReplayReport(generation, previous, result.messages, result.poison,
                        time.monotonic() - started, len(jobs))


def replay_partitions(job: ReplayJob, registry: AvroSchemas,
                      progress: Progress | None = None,
                      stop: Callable[[], bool] = lambda: False) -> WorkerResult:
    """Apply the job's partitions from offset zero to their end, batch by batch."""
    with fewer_collections():
        return _replay_partitions(job, registry, progress, stop)


def _replay_partitions(job: ReplayJob, registry: AvroSchemas,
                       progress: Progress | None, stop: Callable[[], bool]) -> WorkerResult:
    store = PostgresViewStore(job.conninfo, job.schema)
    consumer = Consumer({
        "bootstrap.servers": job.bootstrap, "group.id": f"cpis-replay-{uuid.uuid4()}",
        "enable.auto.commit": False, "isolation.level": "read_committed",
        "enable.partition.eof": True,
    })
    dead = CountingDeadLetters()
    bounds = AccessBounds()  # this worker alone writes its numbers' rows of the generation
    total = 0
    try:
        assign_at_once(consumer, [TopicPartition(t, p, OFFSET_BEGINNING)
                                  for t, p in job.partitions])
        pending = set(job.partitions)
        with store.connect() as conn:
            views = PostgresViews(conn, store.schema, job.generation)
            while pending:
                if stop():
                    raise ReplayStoppedError("replay stopped before the end")
                batch = _consume(consumer, job.batch_size, pending)
                if not batch:
                    continue
                with conn.transaction():
                    offsets = apply_messages(views, batch, registry, dead, bounds)
                    store.save_offsets(conn, job.generation, offsets)
                total += len(batch)
                if progress is not None:
                    progress(total)
    finally:
        consumer.close()
    return WorkerResult(total, dead.count)


def _consume(consumer: Consumer, batch_size: int, pending: set[Partition],
             wait: float = 1.0) -> list[Consumed]:
    """Up to `batch_size` messages, within `wait` seconds; back at once when every partition
    has reached its end. (One consume call would wait out its timeout for a last, short
    batch, the partitions' ends counting as messages: a second per worker, idle.)"""
    batch: list[Consumed] = []
    deadline = time.monotonic() + wait
    while pending and len(batch) < batch_size:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for m in consumer.consume(batch_size - len(batch), min(left, END_POLL)):
            error = m.error()
            if error is None:
                batch.append(as_message(m))
            elif error.code() == KafkaError._PARTITION_EOF:
                pending.discard((str(m.topic()), int(m.partition() or 0)))
            else:
                raise RuntimeError(f"replay consumer error: {error}")
    return batch


# -- worker processes ---------------------------------------------------------------------

def run_workers(jobs: list[ReplayJob], progress: Progress | None,
                stop: Callable[[], bool] = lambda: False) -> WorkerResult:
    """Run each job in its own process (spawned: no Kafka client state is inherited); sum
    their progress as it comes; fail if any worker fails, leaving the views unswitched."""
    context = multiprocessing.get_context("spawn")
    reports: multiprocessing.Queue[tuple[int, int, bool]] = context.Queue()
    processes = [context.Process(target=_worker, args=(i, job, reports), daemon=True,
                                 name=f"cpis-replay-{i}") for i, job in enumerate(jobs)]
    for process in processes:
        process.start()
    try:
        done, poison = _collect(reports, processes, progress, stop)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join()
    return WorkerResult(sum(done), poison)


def _collect(reports: multiprocessing.Queue[tuple[int, int, bool]],
             processes: list[SpawnProcess], progress: Progress | None,
             stop: Callable[[], bool]) -> tuple[list[int], int]:
    done, poison = [0] * len(processes), 0
    finished: set[int] = set()
    while len(finished) < len(processes):
        if stop():
            raise ReplayStoppedError("replay stopped before the end")
        try:
            worker, count, last = reports.get(timeout=1.0)
        except queue.Empty:
            _check_alive([p for i, p in enumerate(processes) if i not in finished])
            continue
        if last:
            finished.add(worker)
            poison += count
        else:
            done[worker] = count
            if progress is not None:
                progress(sum(done))
    return done, poison


def _check_alive(running: list[SpawnProcess]) -> None:
    for process in running:
        if not process.is_alive():
            raise RuntimeError(f"replay worker {process.name} failed (exit code "
                               f"{process.exitcode}); the views were not switched")


def _worker(index: int, job: ReplayJob,
            reports: multiprocessing.Queue[tuple[int, int, bool]]) -> None:
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    # Ctrl-C reaches the whole process group: the parent alone decides, and ends the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ids = RegistryIds(job.registry_url) if job.registry_url else None
    result = replay_partitions(job, AvroSchemas(registry=ids),
                               lambda total: reports.put((index, total, False)))
    reports.put((index, result.messages, False))
    reports.put((index, result.poison, True))
