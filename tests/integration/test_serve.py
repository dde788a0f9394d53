"""`cpis serve` as a process on loopback: mutual TLS, its limits, its log lines, and no 5xx
under contention. Every wait here is bounded by a deadline."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import RefusalReason
from streams.bootstrap import build_application
from streams.settings import Settings
from tests.builders import CHILD, UPLOAD, plan
from tests.e2e.test_hl7_query_over_http import free_port, wait_until_serving
from tests.hl7 import event_id, query_now, sent_by
from tests.services import cli_env
from tests.tls import ED, GP, TlsFiles, make_tls

LIMITS = {"CPIS_HTTP_HEAD_SECONDS": "1", "CPIS_HTTP_BODY_SECONDS": "1",
          "CPIS_HTTP_IDLE_SECONDS": "1", "CPIS_HTTP_CONNECTIONS": "6",
          "CPIS_HTTP_HEADERS": "20", "CPIS_HTTP_HEAD_BYTES": "4096"}


class Server:
    def __init__(self, url: str, log: Path, settings: Settings) -> None:
        self.url = url
        self.log = log
        self.settings = settings
        self.port = int(url.rsplit(":", 1)[1])

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("logger") == "cpis.serve"]


@contextmanager
def serving(settings: Settings, log: Path, *args: str,
            extra: dict[str, str] | None = None,
            verify: ssl.SSLContext | bool = True) -> Iterator[Server]:
    port = free_port()
    scheme = "http" if "--insecure-http" in args else "https"
    url = f"{scheme}://127.0.0.1:{port}"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli.main", "serve", "--port", str(port), *args],
            env=cli_env(settings) | LIMITS | (extra or {}), stderr=err)
        try:
            wait_until_serving(url, verify)
            yield Server(url, log, settings)
        finally:
            process.terminate()
            process.wait(30)


@pytest.fixture
def seeded(tmp_path: Path) -> Settings:
    settings = Settings(event_store="sqlite", data_dir=tmp_path / "store")
    app = build_application(settings)
    try:
        app.upload_plan(CHILD, plan(), UPLOAD)
    finally:
        app.close()
    return settings


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def plain(seeded: Settings, tmp_path: Path) -> Iterator[Server]:
    with serving(seeded, tmp_path / "serve.log", "--insecure-http") as server:
        yield server


# -- who may connect -------------------------------------------------------------------------

def test_a_registered_client_certificate_is_answered(seeded: Settings, tls: TlsFiles,
                                                    tmp_path: Path) -> None:
    client = tls.client_context(ED)
    with serving(seeded, tmp_path / "log", extra=tls.server_env(), verify=client) as server:
        reply = httpx.post(f"{server.url}/cpisquery", content=query_now(), verify=client)
    assert reply.status_code == 200
    [line] = [r for r in server.requests() if r["outcome"] == "answered"]
    assert line["certificate"] == ED


def test_no_client_certificate_or_one_from_another_ca_cannot_connect(
    seeded: Settings, tls: TlsFiles, tmp_path: Path
) -> None:
    stranger = trustme.CA().issue_cert(ED, common_name=ED)
    forged = tmp_path / "forged.pem"
    stranger.private_key_and_cert_chain_pem.write_to_path(str(forged))
    with serving(seeded, tmp_path / "log", extra=tls.server_env(),
                 verify=tls.client_context(ED)) as server:
        for context in (tls.client_context(None), _with_cert(tls, forged)):
            with pytest.raises((httpx.ConnectError, httpx.ReadError,
                                httpx.RemoteProtocolError)):
                httpx.post(f"{server.url}/cpisquery", content=query_now(), verify=context)


def _with_cert(tls: TlsFiles, pem: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca_pem))
    context.load_cert_chain(str(pem))
    return context


def test_a_certificate_not_in_the_registry_or_another_asid_is_refused_and_recorded(
    seeded: Settings, tls: TlsFiles, tmp_path: Path
) -> None:
    unknown = tls.client_context("unknown.example.nhs.uk")
    ed = tls.client_context(ED)
    with serving(seeded, tmp_path / "log", extra=tls.server_env(), verify=ed) as server:
        refused = httpx.post(f"{server.url}/cpisquery", content=query_now(), verify=unknown)
        posing = httpx.post(f"{server.url}/cpisquery", verify=ed, content=query_now(
            sent_by("200000000002", "A99001"), event_id("00000000-0000-4000-8000-00000000000B")))
    assert (refused.status_code, posing.status_code) == (403, 403)
    assert "not registered for CP-IS" in refused.text
    assert "is not the ASID of the client certificate" in posing.text
    app = build_application(seeded)
    try:
        events = list(app.events.get(app.find_record(CHILD).id))  # type: ignore[union-attr]
    finally:
        app.close()
    refusals = [e.refusal.reason for e in events if isinstance(e, Record.QueryRefused)]
    assert refusals == [RefusalReason.NOT_AUTHORISED] * 2
    assert not [e for e in events if isinstance(e, Record.InformationAccessed)]


def test_serve_without_tls_settings_or_on_a_public_address_refuses_to_start(
    seeded: Settings
) -> None:
    env = cli_env(seeded)
    run = [sys.executable, "-m", "streams.cli.main", "serve"]
    no_tls = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    public = subprocess.run([*run, "--insecure-http", "--host", "0.0.0.0"], env=env,  # noqa: S104
                            capture_output=True, text=True, timeout=60)
    assert no_tls.returncode == public.returncode == 2
    assert "cpis serve needs mutual TLS" in no_tls.stderr
    assert "loopback address only, not 0.0.0.0" in public.stderr


def test_the_gp_endpoint_reads_silently_over_tls(seeded: Settings, tls: TlsFiles,
                                                 tmp_path: Path) -> None:
    gp = tls.client_context(GP)
    with serving(seeded, tmp_path / "log", extra=tls.server_env(), verify=gp) as server:
        reply = httpx.post(f"{server.url}/cpisquery", verify=gp,
                           headers={"IsUnscheduledAccessEvent": "false"},
                           content=query_now(sent_by("200000000002", "A99001")))
    assert reply.status_code == 200
    assert [r["outcome"] for r in server.requests()] == ["silent read"]


# -- limits -----------------------------------------------------------------------------------

def test_a_request_head_over_the_size_limit_is_refused_at_once(plain: Server) -> None:
    started = time.monotonic()
    reply = httpx.post(f"{plain.url}/cpisquery", content=b"<x/>",
                       headers={"X-Padding": "a" * 10_000}, timeout=10)
    assert reply.status_code in (400, 431)
    assert time.monotonic() - started < 5
    assert httpx.get(f"{plain.url}/health").text == "ok"


def test_too_many_headers_are_refused(plain: Server) -> None:
    headers = {f"X-H{i}": "1" for i in range(30)}
    reply = httpx.post(f"{plain.url}/cpisquery", content=b"<x/>", headers=headers)
    assert reply.status_code == 431
    assert any(r["outcome"] == "refused: too many headers" for r in plain.requests())


def test_a_client_dripping_its_request_head_is_cut_off(plain: Server) -> None:
    with socket.create_connection(("127.0.0.1", plain.port), timeout=10) as sock:
        sock.sendall(b"POST /cpisquery HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert _closed(sock, started)
    assert time.monotonic() - started < 5


def test_a_body_sent_too_slowly_is_refused_with_408(plain: Server) -> None:
    with socket.create_connection(("127.0.0.1", plain.port), timeout=10) as sock:
        sock.sendall(b"POST /cpisquery HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<x")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")


def test_an_idle_connection_is_closed_after_the_idle_limit(plain: Server) -> None:
    with socket.create_connection(("127.0.0.1", plain.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b"\r\n\r\nok"):
            answer += sock.recv(4096)
        started = time.monotonic()
        assert _closed(sock, started)
    assert time.monotonic() - started < 5


def test_connections_over_the_limit_are_answered_503(plain: Server) -> None:
    held = [socket.create_connection(("127.0.0.1", plain.port), timeout=10) for _ in range(8)]
    try:
        reply = httpx.get(f"{plain.url}/health", timeout=10)
        assert reply.status_code == 503
    finally:
        for sock in held:
            sock.close()
    time.sleep(1.5)  # the held connections go; the worker takes requests again
    assert httpx.get(f"{plain.url}/health", timeout=10).status_code == 200


def test_a_client_going_away_is_one_log_line_not_a_traceback(plain: Server) -> None:
    with socket.create_connection(("127.0.0.1", plain.port), timeout=10) as sock:
        sock.sendall(b"POST /cpisquery HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<x")
    time.sleep(1.5)
    assert "Traceback" not in plain.log.read_text()
    assert [r["outcome"] for r in plain.requests()] == ["client went away"]


def _closed(sock: socket.socket, started: float) -> bool:
    """Whether the server closes the connection within 5 s."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return time.monotonic() - started < 5


# -- log lines --------------------------------------------------------------------------------

def test_each_request_is_one_json_line_that_cannot_be_forged_and_masks_nhs_numbers(
    plain: Server,
) -> None:
    forged = "0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5\n{\"level\": \"INFO\", \"fake\": true}"
    body = query_now(event_id(forged))
    assert httpx.post(f"{plain.url}/cpisquery", content=body).status_code == 200
    httpx.post(f"{plain.url}/cpisquery", content=query_now())
    text = plain.log.read_text()
    assert not any(line.startswith('{"level"') for line in text.splitlines())
    assert CHILD.value not in text
    [forging, answered] = plain.requests()
    assert forging["event_id"].startswith("0F5A8E2C")
    assert "\n" in forging["event_id"]
    assert answered["nhs_number"] == "******" + CHILD.value[-4:]
    assert answered["outcome"] == "answered"
    assert answered["status"] == 200
    assert isinstance(answered["latency_ms"], float)
    assert answered["message_id"] == "6B2F3E10-7A41-4C3E-9A51-1D2B3C4D5E6F"
    assert answered["level"] == "INFO"


# -- contention ---------------------------------------------------------------------------------

def test_twenty_clients_querying_one_child_on_two_workers_are_all_answered_and_recorded_once(
    postgres_settings: Settings, tmp_path: Path,
) -> None:
    app = build_application(postgres_settings)
    try:
        app.upload_plan(CHILD, plan(), UPLOAD)
    finally:
        app.close()
    queries = [query_now(event_id(f"00000000-0000-4000-8000-{n:012d}")) for n in range(2000)]
    with serving(postgres_settings, tmp_path / "log", "--insecure-http", "--workers", "2",
                 extra={"CPIS_HTTP_CONNECTIONS": "100"}) as server, \
            ThreadPoolExecutor(20) as pool, httpx.Client(timeout=60) as client:
        statuses = list(pool.map(
            lambda body: client.post(f"{server.url}/cpisquery", content=body).status_code,
            queries))
    assert statuses == [200] * 2000
    app = build_application(postgres_settings)
    try:
        events = list(app.events.get(app.find_record(CHILD).id))  # type: ignore[union-attr]
    finally:
        app.close()
    accessed = [e.access.access_id for e in events if isinstance(e, Record.InformationAccessed)]
    assert sorted(accessed) == sorted(f"00000000-0000-4000-8000-{n:012d}" for n in range(2000))
