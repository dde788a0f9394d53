"""The HTTP front of the query service (Starlette, in process)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from streams.cli.main import main
from streams.serve.http import ListenError, build_http_app, tcp_listener
from tests.hl7 import fixture, hl7_of, scheduled_care_query, seeded_app, service, soap, xp


def client() -> TestClient:
    return TestClient(build_http_app(service(seeded_app())))


def test_soap_query_is_answered_over_http() -> None:
    response = client().post("/cpisquery", content=soap(fixture("query_person.xml")),
                             headers={"Content-Type": "text/xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert xp(hl7_of(response.content), "//hl7:queryResponseCode/@code") == ["OK"]


def test_silent_read_header_is_honoured_for_scheduled_care() -> None:
    response = client().post("/cpisquery", content=scheduled_care_query(),
                             headers={"IsUnscheduledAccessEvent": "false"})
    assert xp(hl7_of(response.content),
              "//hl7:pertinentTotalReturnedAccessRecords/hl7:value/@value") == ["0"]


def test_health() -> None:
    assert client().get("/health").text == "ok"


def test_a_body_over_the_limit_is_refused_with_413() -> None:
    response = client().post("/cpisquery", content=b"<" * 1_000_050)
    assert response.status_code == 413
    assert xp(hl7_of(response.content),
              "//hl7:justifyingDetectedIssueEvent/hl7:code/@code") == ["CPIS.MESSAGE_TOO_LARGE"]


def test_get_on_the_query_endpoint_is_not_allowed() -> None:
    assert client().get("/cpisquery").status_code == 405


def test_the_workers_listening_socket_gives_connections_without_nagle_delay() -> None:
    """uvicorn's own multi-worker socket left Nagle on: every reply waited ~40 ms."""
    listener = tcp_listener("127.0.0.1", 0)

    async def accepted_nodelay() -> int:
        seen: list[int] = []

        def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        while not seen:
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        return seen[0]

    assert asyncio.run(accepted_nodelay()) != 0


def test_a_port_in_use_is_a_clear_error() -> None:
    taken = tcp_listener("127.0.0.1", 0)
    taken.listen()
    with pytest.raises(ListenError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
        tcp_listener("127.0.0.1", taken.getsockname()[1])
    taken.close()


def test_several_workers_need_the_postgres_store(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    monkeypatch.setenv("CPIS_EVENT_STORE", "sqlite")
    monkeypatch.setenv("CPIS_DATA_DIR", str(tmp_path))
    assert main(["serve", "--workers", "2"]) == 2
    assert "--workers 2 needs CPIS_EVENT_STORE=postgres" in capsys.readouterr().err
