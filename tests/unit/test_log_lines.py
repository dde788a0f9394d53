"""Each JSON log line names its process and carries the ids it was given, NHS numbers
masked."""

from __future__ import annotations

import json
import logging

from streams.logs import PROCESS, MaskedJsonFormatter, configure_logging


def line(message: str, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord({"msg": message, "levelname": "INFO", "name": "t",
                                    **extra})
    return dict(json.loads(MaskedJsonFormatter().format(record)))


def test_a_line_names_the_process_and_keeps_its_ids() -> None:
    before = PROCESS["name"]
    try:
        configure_logging("json", "INFO", "cpis mesh")
        found = line("upload file #7: CPF02", mesh_message_id="M-1", file_sequence=7)
    finally:
        PROCESS["name"] = before
        configure_logging("json", "INFO")
    assert found["process"] == "cpis mesh"
    assert (found["mesh_message_id"], found["file_sequence"]) == ("M-1", 7)
    assert found["level"] == "INFO"


def test_nhs_numbers_are_masked_in_ids_and_messages() -> None:
    found = line("query for 943 476 5919", nhs_number="9434765919")
    assert "9434765919" not in json.dumps(found)
    assert found["nhs_number"] == "******5919"
