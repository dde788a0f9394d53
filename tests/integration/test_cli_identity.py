"""`cpis pds import` and `cpis audit` from the command line, on the embedded store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def cpis(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams.cli", *args],
                          env={"CPIS_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120, check=False)


def test_import_a_merge_then_audit_the_history_as_json_and_table(tmp_path: Path) -> None:
    assert cpis(tmp_path, "demo").returncode == 0  # 9990000018 has plans from X26 and X27
    changes = tmp_path / "changes.csv"
    changes.write_text("feed_id,change,nhs_number,replacement\n"
                       "PDS-1,superseded,9990000018,9990000107\n"
                       "PDS-2,retired,9990000115,\n"
                       "PDS-3,superseded,999000001,9990000107\n")
    imported = cpis(tmp_path, "pds", "import", str(changes))
    assert imported.returncode == 1  # one unreadable row, reported; the rest applied
    assert "line 4: NHS number must be 10 digits" in imported.stderr
    assert ("1 applied, 0 applied before, 1 for numbers CP-IS does not hold, 0 refused, "
            "1 unreadable") in imported.stderr

    history = cpis(tmp_path, "audit", "history", "999 000 0107", "--json")
    assert history.returncode == 0, history.stderr
    rows = [json.loads(line) for line in history.stdout.splitlines()]
    assert {r["nhs_number"] for r in rows} == {"9990000018", "9990000107"}
    merged = [r for r in rows if r["event"] == "RecordMergedIn"]
    assert merged[0]["channel"] == "pds"
    assert merged[0]["message_id"] == "PDS-1"
    table = cpis(tmp_path, "audit", "history", "9990000107")
    assert table.stdout.splitlines()[0].split()[:4] == ["recorded", "at", "NHS", "number"]


def test_audit_reports_refuse_bad_input_clearly(tmp_path: Path) -> None:
    bad = cpis(tmp_path, "audit", "at", "9990000018", "yesterday")
    assert bad.returncode == 2
    assert "not an ISO 8601 time: 'yesterday'" in bad.stderr
    wrong = cpis(tmp_path, "audit", "history", "1234567890")
    assert wrong.returncode == 2
    assert "check value is 10" in wrong.stderr
