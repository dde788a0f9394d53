"""The metrics each long-running process exposes (Prometheus, `/metrics`).

Counters and histograms are updated where the work happens; gauges that need a look at a
store (relay lag, the outbox) are read when Prometheus scrapes, by a collector of their own,
so a process that is not scraped pays nothing for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import psycopg
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from adapters.views.outbox import NotificationOutbox

log = logging.getLogger(__name__)

RETRIES = Counter("cpis_retries", "Waits for a dependency to come back, by what was waited for",
                  ["dependency"])

RELAY_EVENTS = Counter("cpis_relay_published_events", "Events the relay published")
RELAY_TRANSACTIONS = Counter("cpis_relay_transactions", "Kafka transactions the relay committed")
RELAY_INTERRUPTIONS = Counter("cpis_relay_interruptions",
                              "Times the relay started again after a dependency failed",
                              ["error"])
RELAY_POSITION = Gauge("cpis_relay_position", "The last event-store position published")

PROJECTOR_MESSAGES = Counter("cpis_projector_applied_messages", "Messages the projector applied")
PROJECTOR_BATCH = Histogram("cpis_projector_batch_seconds", "Time to apply one batch")
PROJECTOR_LAG = Gauge("cpis_projector_lag_messages",
                      "Messages on a partition the projector has not applied yet",
                      ["topic", "partition"])
DEAD_LETTERS = Counter("cpis_dead_letters", "Messages sent to the dead-letter topic",
                       ["reason"])

UPLOADS = Counter("cpis_uploads", "LA upload files answered, by file code (CPF01-06)",
                  ["file_code"])
UPLOAD_RECORDS = Counter("cpis_upload_records", "LA upload records, by record code (CPR01-07)",
                         ["record_code"])
QUARANTINED = Counter("cpis_quarantined_messages", "MESH messages kept in the quarantine")
NOTIFICATIONS = Counter("cpis_notifications_sent", "LA notification sends, by result",
                        ["result"])

IDENTITY_CHANGES = Counter("cpis_identity_changes", "PDS identity changes from the feed, by "
                           "result (applied, or for a number CP-IS does not hold)", ["result"])

QUERIES = Counter("cpis_queries", "HL7 queries answered, by outcome and refusal reason",
                  ["outcome", "reason"])
QUERY_SECONDS = Histogram("cpis_query_seconds", "Time to answer an HL7 query",
                          buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))


class RelayLag(Collector):
    """Newest event-store position minus the last one published, read at each scrape."""

    def __init__(self, newest: Callable[[], int], published: Callable[[], int]) -> None:
        self.newest = newest
        self.published = published

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The names, without reading the store (registering calls this, not collect)."""
        yield GaugeMetricFamily("cpis_relay_lag_events", "")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            newest = self.newest()
        except Exception as error:  # the store away: this scrape lacks the lag, not the rest
            log.warning("relay lag unavailable: %s", error)
            return
        lag = max(0, newest - self.published())
        yield GaugeMetricFamily("cpis_relay_lag_events",
                                "Stored events the relay has not published yet", value=lag)


class OutboxState(Collector):
    """LA notifications by delivery state and the oldest pending one's age, read at each
    scrape from the views."""

    def __init__(self, outbox: NotificationOutbox) -> None:
        self.outbox = outbox

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("cpis_outbox_notifications", "", labels=["state"])
        yield GaugeMetricFamily("cpis_outbox_oldest_pending_seconds", "")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            summary = self.outbox.summary()
        except psycopg.Error as error:  # the views away: this scrape lacks these, not the rest
            log.warning("outbox metrics unavailable: %s", str(error).strip().splitlines()[0])
            return
        states = GaugeMetricFamily("cpis_outbox_notifications",
                                   "LA notifications by delivery state", labels=["state"])
        states.add_metric(["pending"], summary.pending)
        for state in ("sent", "failed", "undelivered"):
            states.add_metric([state], summary.by_status.get(state, 0))
        yield states
        age = 0.0 if summary.oldest_pending is None else \
            (datetime.now(UTC) - summary.oldest_pending).total_seconds()
        yield GaugeMetricFamily("cpis_outbox_oldest_pending_seconds",
                                "Age of the oldest LA notification not yet sent", value=age)


_watched: dict[str, Collector] = {}


def watch(name: str, collector: Collector) -> None:
    """Read `collector` at each scrape, in place of one watched before under `name` (a
    process runs one relay or projector; tests run several in turn)."""
    old = _watched.pop(name, None)
    if old is not None:
        REGISTRY.unregister(old)
    REGISTRY.register(collector)
    _watched[name] = collector
