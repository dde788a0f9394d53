"""A MESH poll's report reaches the metrics: files by file code, records by record code,
quarantined messages, notification sends."""

from __future__ import annotations

from prometheus_client import REGISTRY

from adapters.mesh.upload_receiver import PollReport
from streams.mesh_poller import count


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_poll_counts_files_records_quarantine_and_sends() -> None:
    files = value("cpis_uploads_total", file_code="CPF02")
    refused = value("cpis_uploads_total", file_code="CPF01")
    records = value("cpis_upload_records_total", record_code="CPR01")
    kept = value("cpis_quarantined_messages_total")
    sent = value("cpis_notifications_sent_total", result="sent")
    count(PollReport(uploads=1, records=3, rejected_files=1, quarantined=2,
                     by_code={"CPF02": 1, "CPR01": 3}), sent=4, failed=0)
    assert value("cpis_uploads_total", file_code="CPF02") == files + 1
    assert value("cpis_uploads_total", file_code="CPF01") == refused + 1
    assert value("cpis_upload_records_total", record_code="CPR01") == records + 3
    assert value("cpis_quarantined_messages_total") == kept + 2
    assert value("cpis_notifications_sent_total", result="sent") == sent + 4
