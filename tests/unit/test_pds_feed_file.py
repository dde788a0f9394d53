"""Reading a batch of PDS identity changes (CSV, JSON array, JSON lines)."""

from __future__ import annotations

from adapters.pds.feed_file import BadRow, read_changes
from domain.model.identity import ChangeKind, IdentityChange
from domain.model.nhs_number import NhsNumber

CSV = """feed_id,change,nhs_number,replacement
F1,superseded,999 876 5439,9990000018
F2,retired,9990000026,
F3,merged,9990000026,
F4,superseded,9434765918,9990000018
F5,superseded,9990000034,
"""


def test_csv_rows_become_changes_and_bad_rows_say_why() -> None:
    rows = list(read_changes(CSV, "changes.csv"))
    assert rows[0] == IdentityChange("F1", ChangeKind.SUPERSEDED, NhsNumber("9998765439"),
                                     NhsNumber("9990000018"))
    assert rows[1] == IdentityChange("F2", ChangeKind.RETIRED, NhsNumber("9990000026"))
    assert rows[2] == BadRow(4, "change must be superseded or retired, got 'merged'")
    assert isinstance(rows[3], BadRow)
    assert rows[3].line == 5
    assert "Modulus 11" in rows[3].reason
    assert rows[4] == BadRow(6, "superseded NHS number 9990000034 needs a replacement")


def test_json_array_and_json_lines() -> None:
    item = '{"feed_id": "F1", "change": "retired", "nhs_number": "9990000026"}'
    expected = IdentityChange("F1", ChangeKind.RETIRED, NhsNumber("9990000026"))
    assert list(read_changes(f"[{item}]", "changes.json")) == [expected]
    assert list(read_changes(f"{item}\n\nnot json\n", "changes.jsonl")) == [
        expected, BadRow(3, "not valid JSON: Expecting value")]
