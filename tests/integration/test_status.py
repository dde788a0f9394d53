"""`cpis status` on the real services: every dependency up, and each configured LA's last
upload as the event store holds it (an LA that never uploaded says so)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from adapters.mesh.mailbox import Mailbox, MeshSettings
from domain.application.app import CpisApplication
from streams.bootstrap import build_upload_receiver
from streams.cli.status import gather
from streams.settings import Settings
from tests.mesh_helpers import CPIS_MAILBOX, la_sends, take_all


def test_status_shows_each_dependency_and_each_las_last_upload_with_its_file_response(
        stream_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str],
        tmp_path: Path) -> None:
    settings = replace(stream_settings, mesh=MeshSettings(mesh[0], CPIS_MAILBOX, "password",
                                                          mesh[1]), data_dir=tmp_path)
    la_sends(mesh, "X26LA001", "upload_mixed.xml")
    box = Mailbox(settings.mesh)
    try:
        build_upload_receiver(settings, stream_app, box).poll_once()
    finally:
        box.close()
    [reply] = take_all(mesh, "X26LA001")

    found = gather(settings)

    assert found["dependencies"] == {"postgres": "up", "kafka": "up",
                                     "schema registry": "up", "mesh": "up"}
    x26 = found["last upload per LA"]["X26"]
    assert " CPF03 (3/9 records)" in x26
    assert x26.endswith(f"FileResponse {reply.message_id}")
    assert found["last upload per LA"]["X27"] == "none"
    assert found["quarantined MESH messages"]["files"] == 0
