"""End to end: an HL7 V3 query over mutual TLS (`cpis serve`) against PostgreSQL and Kafka;
the LA outbox then holds the access notification (via `cpis relay` and `cpis project`)."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from domain.application.app import CpisApplication
from streams.bootstrap import build_view_store
from streams.settings import Settings
from tests.builders import CHILD, UPLOAD, plan
from tests.e2e.test_command_to_views import eventually, running
from tests.hl7 import SOAP_OPEN, hl7_of, query_now, xp
from tests.tls import ED, make_tls


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(url: str, verify: ssl.SSLContext | bool = True) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2, verify=verify).text == "ok":
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "cpis serve did not start"
        time.sleep(0.3)


def test_query_over_mutual_tls_answers_and_notifies_the_local_authority(
    stream_settings: Settings, stream_app: CpisApplication, tmp_path: Path
) -> None:
    stream_app.upload_plan(CHILD, plan(), UPLOAD)
    store = build_view_store(stream_settings)
    store.setup()
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    client = tls.client_context(ED)
    with running(stream_settings, "serve", "--port", str(port), "--workers", "2",
                 extra=tls.server_env()), \
            running(stream_settings, "relay"), running(stream_settings, "project"):
        wait_until_serving(url, client)
        response = httpx.post(f"{url}/cpisquery", content=query_now(),
                              headers={"Content-Type": "text/xml"}, timeout=30, verify=client)
        assert response.status_code == 200
        message = hl7_of(response.content)
        assert xp(message, "//hl7:organisation/hl7:id/@extension") == ["X26"]
        assert xp(message, "//hl7:pertinentCP-ISNHSQuery/hl7:id/@root") == [
            "0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5"]

        def notified() -> bool:
            with store.views() as views:
                return any(r.notification.access is not None for r in views.notifications())
        eventually(notified)

    with store.views() as views:
        [row] = views.notifications()
    assert (row.notification.ods_code, row.status) == ("X26", "pending")
    assert row.notification.access is not None
    assert row.notification.access.access_id == "0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5"


def test_a_100_mb_streamed_body_is_refused_and_the_server_carries_on(tmp_path: Path) -> None:
    """No Content-Length to go by: the service reads 1 MB and a byte, answers 413, and the
    server discards the rest of the body."""
    settings = Settings(event_store="sqlite", data_dir=tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def hundred_megabytes() -> Iterator[bytes]:
        yield SOAP_OPEN
        for _ in range(100):
            yield b"<x>" + b"a" * 1_000_000 + b"</x>"

    with running(settings, "serve", "--port", str(port), "--insecure-http"):
        wait_until_serving(url)
        response = httpx.post(f"{url}/cpisquery", content=hundred_megabytes(), timeout=60)
        assert response.status_code == 413
        assert xp(hl7_of(response.content),
                  "//hl7:justifyingDetectedIssueEvent/hl7:code/@code") == ["CPIS.MESSAGE_TOO_LARGE"]
        assert httpx.get(f"{url}/health", timeout=5).text == "ok"
