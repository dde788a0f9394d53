"""`cpis pds import` and `cpis audit` from the command line, on the embedded store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def cpis(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams.cli.main", *args],
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
    assert "and of 1 number merged with it (9990000018)" in " ".join(table.stdout.split())
    assert "times are UK time (Europe/London)" in " ".join(table.stdout.split())
    header = next(line for line in table.stdout.splitlines() if line.startswith("stored at"))
    assert header.split()[:5] == ["stored", "at", "(UK)", "NHS", "number"]
    assert max(len(line) for line in table.stdout.splitlines()) <= 120


def test_reports_say_their_clock_count_in_words_and_fit_120_columns(tmp_path: Path) -> None:
    assert cpis(tmp_path, "demo").returncode == 0
    held = cpis(tmp_path, "audit", "at", "9990000018", "2099-01-01T00:00")
    assert held.returncode == 0, held.stderr
    text = " ".join(held.stdout.split())
    assert "as CP-IS held it at 2099-01-01 00:00:00.000 (by when events were stored" in text
    assert "2 current plans" in text
    assert "1 shown of 2 accesses recorded" in text  # the demo's repeat is collapsed
    reads = cpis(tmp_path, "audit", "accesses", "--from", "2000-01-01", "--to", "2099-01-01",
                 "--org", "rxx01")
    assert reads.returncode == 0, reads.stderr
    said = " ".join(reads.stdout.split())
    assert "(included)" in said
    assert "by when the care setting asked" in said
    assert "organisation RXX01 only" in said
    assert "RXX01" in reads.stdout.splitlines()[-1]
    for out in (held.stdout, reads.stdout):
        assert max(len(line) for line in out.splitlines()) <= 120


def test_reports_refuse_empty_answers_and_periods_with_a_message(tmp_path: Path) -> None:
    assert cpis(tmp_path, "demo").returncode == 0
    unknown = cpis(tmp_path, "audit", "history", "9990000107")
    assert unknown.returncode == 1
    assert "CP-IS holds no record for NHS number 9990000107" in unknown.stdout
    backward = cpis(tmp_path, "audit", "accesses", "--from", "2027-01-01", "--to", "2026-01-01")
    assert backward.returncode == 2
    assert "the period is empty" in backward.stdout
    missing = cpis(tmp_path, "audit", "query", "9990000018", "NO-SUCH-ID")
    assert missing.returncode == 1
    assert "no query NO-SUCH-ID is recorded" in missing.stdout


def test_a_read_only_command_never_creates_a_store(tmp_path: Path) -> None:
    typo = tmp_path / "no-such-store"
    for report in (["history", "9990000018"], ["at", "9990000018", "2026-01-01"],
                   ["accesses", "--from", "2026-01-01", "--to", "2026-02-01"]):
        done = cpis(typo, "audit", *report)
        assert done.returncode == 2
        assert f"no CP-IS store at {typo}/cpis-events.sqlite" in done.stderr
    assert not typo.exists()


def test_audit_reports_refuse_bad_input_clearly(tmp_path: Path) -> None:
    bad = cpis(tmp_path, "audit", "at", "9990000018", "yesterday")
    assert bad.returncode == 2
    assert "not an ISO 8601 time: 'yesterday'" in bad.stderr
    wrong = cpis(tmp_path, "audit", "history", "1234567890")
    assert wrong.returncode == 2
    assert "check value is 10" in wrong.stderr
