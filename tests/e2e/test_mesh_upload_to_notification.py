"""End to end over real MESH, HTTP, Kafka and PostgreSQL: an LA uploads a file with valid
and invalid records through mesh-sandbox, receives the right FileResponse; an emergency
department then queries over HL7 V3; the LA's mailbox receives the access notification.
`cpis mesh`, `cpis serve` (mutual TLS), `cpis relay` and `cpis project` run as their own
processes."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from adapters.mesh.mailbox import InboundMessage
from domain.application.app import CpisApplication
from streams.settings import Settings
from tests.e2e.test_command_to_views import running
from tests.e2e.test_hl7_query_over_http import free_port, wait_until_serving
from tests.hl7 import hl7_of, query_now, xp
from tests.mesh_helpers import la_sends, take_all, xml
from tests.tls import ED, make_tls


def wait_for_mail(mesh: tuple[str, str], mailbox_id: str, workflow: str,
                  seconds: float = 90.0) -> list[InboundMessage]:
    deadline, found = time.monotonic() + seconds, list[InboundMessage]()
    while not found:
        assert time.monotonic() < deadline, f"nothing arrived in {mailbox_id} ({workflow})"
        time.sleep(0.5)
        found = [m for m in take_all(mesh, mailbox_id) if m.workflow_id == workflow]
    return found


def test_upload_through_mesh_then_query_then_the_la_is_notified(
    stream_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str],
    tmp_path: Path,
) -> None:
    mesh_env = {"CPIS_MESH_URL": mesh[0], "CPIS_MESH_SHARED_KEY": mesh[1],
                "CPIS_MESH_POLL_SECONDS": "1"}
    tls = make_tls(tmp_path / "tls")
    client = tls.client_context(ED)
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    with running(stream_settings, "mesh", extra=mesh_env), \
            running(stream_settings, "serve", "--port", str(port), extra=tls.server_env()), \
            running(stream_settings, "relay"), running(stream_settings, "project"):
        la_sends(mesh, "X26LA001", "upload_mixed.xml")
        [ack] = wait_for_mail(mesh, "X26LA001", "CPIS_LA_UPLOAD_ACK")
        response = xml(ack)
        assert xp(response, "//hl7:acknowledgementFileDetail/hl7:code/@code") == ["CPF03"]
        assert xp(response, "//hl7:acknowledgementRecordDetail/hl7:code/@code") == [
            "CPR06", "CPR06", "CPR06", "CPR04", "CPR01", "CPR02", "CPR03", "CPR05", "CPR07"]

        wait_until_serving(url, client)
        answer = httpx.post(f"{url}/cpisquery", content=query_now(), timeout=30,
                            verify=client)
        assert answer.status_code == 200
        assert xp(hl7_of(answer.content), "//hl7:cPPStartDate/hl7:value/@value") == [
            "202501060900"]

        [note] = wait_for_mail(mesh, "X26LA001", "CPIS_ACCESS_NOTIFICATION")
        notification = xml(note)
        assert xp(notification, "//hl7:pertinentCP-ISNHSQuery/hl7:id/@root") == [
            "0F5A8E2C-1B3D-4E6F-8A9B-C0D1E2F3A4B5"]
        assert xp(notification, "//hl7:person.id/hl7:value/@extension") == [
            "9998765439", "LA-001"]
        assert xp(notification, "//hl7:referredToLAUploadFile/hl7:value/@extension") == ["1"]
