"""`/metrics`, `/health` and `/ready` of a long-running process, on a loopback port of its
own (prometheus-client's WSGI app and server, in a daemon thread).

`/health` says the process is alive; `/ready` runs each of the process's checks (can it
reach PostgreSQL, Kafka, the registry, MESH?) and answers 503 naming those that failed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

from streams.ops.metrics import watch

log = logging.getLogger(__name__)
Check = Callable[[], None]  # raises when what it checks is not there
Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def readiness(checks: dict[str, Check]) -> tuple[bool, dict[str, str]]:
    """(all passed, each check's "ok" or its error)."""
    found = {}
    for name, check in checks.items():
        try:
            check()
            found[name] = "ok"
        except Exception as error:  # a failed check is an answer here, not a crash
            found[name] = f"{type(error).__name__}: {error}"
    return all(v == "ok" for v in found.values()), found


def operations_app(checks: dict[str, Check]) -> Callable[[Environ, StartResponse],
                                                          Iterable[bytes]]:
    metrics = make_wsgi_app()

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health":
            return _json(start_response, 200, {"status": "alive"})
        if path == "/ready":
            ready, found = readiness(checks)
            return _json(start_response, 200 if ready else 503,
                         {"status": "ready" if ready else "not ready", "checks": found})
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    return app


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    text = json.dumps(body).encode()
    start_response(f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(text)))])
    return [text]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # a scrape every few seconds is not worth a log line


class Readiness(Collector):
    """`cpis_ready{check}`, 1 or 0, each check run at each scrape: what the alert on a
    component not ready reads."""

    def __init__(self, checks: dict[str, Check]) -> None:
        self.checks = checks

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("cpis_ready", "", labels=["check"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        _, found = readiness(self.checks)
        ready = GaugeMetricFamily("cpis_ready", "Whether the process reaches what it needs",
                                  labels=["check"])
        for name, answer in found.items():
            ready.add_metric([name], 1 if answer == "ok" else 0)
        yield ready


def serve_operations(host: str, port: int, checks: dict[str, Check]) -> int | None:
    """Start the endpoint in a daemon thread; the port it listens on (port 0: any free).
    A port taken is logged and the process carries on without: its work matters more."""
    watch("readiness", Readiness(checks))
    try:
        server = make_server(host, port, operations_app(checks), ThreadingWSGIServer,
                             handler_class=_Quiet)
    except OSError as error:
        log.error("no metrics, health or readiness: cannot listen on %s:%d (%s)", host, port,
                  error)
        return None
    threading.Thread(target=server.serve_forever, name="operations", daemon=True).start()
    bound = int(server.server_address[1])
    log.info("metrics, health and readiness on http://%s:%d/metrics", host, bound)
    return bound
