"""/health, /ready and /metrics of a long-running process, called as its WSGI app."""

from __future__ import annotations

import json
from typing import Any

from streams.ops.endpoint import operations_app, readiness


def call(app: Any, path: str) -> tuple[str, bytes]:
    started: list[str] = []
    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""},
                        lambda status, headers: started.append(status)))
    return started[0], body


def fails() -> None:
    raise ConnectionError("refused on 127.0.0.1:9")


def test_ready_names_each_failed_check_and_answers_503() -> None:
    status, body = call(operations_app({"kafka": lambda: None, "views": fails}), "/ready")
    assert status.startswith("503")
    assert json.loads(body) == {"status": "not ready", "checks": {
        "kafka": "ok", "views": "ConnectionError: refused on 127.0.0.1:9"}}


def test_ready_answers_200_when_every_check_passes_and_health_always() -> None:
    assert call(operations_app({"kafka": lambda: None}), "/ready")[0].startswith("200")
    assert call(operations_app({"views": fails}), "/health")[0].startswith("200")


def test_metrics_are_in_prometheus_text_format() -> None:
    status, body = call(operations_app({}), "/metrics")
    assert status.startswith("200")
    assert b"# TYPE cpis_relay_published_events_total counter" in body


def test_readiness_runs_every_check_even_after_one_fails() -> None:
    ran: list[str] = []
    passed, _ = readiness({"a": fails, "b": lambda: ran.append("b")})
    assert not passed
    assert ran == ["b"]
