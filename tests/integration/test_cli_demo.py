"""`cpis demo` runs on the embedded SQLite store with no servers."""

import subprocess
import sys
from pathlib import Path


def run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli.main", "demo"],
        env={"CPIS_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_demo_uploads_queries_and_prints_the_history(tmp_path: Path) -> None:
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "CP-IS demo on the sqlite event store" in out
    assert "CPP for NHS number 999 000 0018 -> registered" in out
    assert "responsible LA X26 Northtown Borough Council: office hours 01632960001" in out
    assert "access history (1 shown, newest first)" in out
    assert out.count("InformationAccessed") == 2
    assert (tmp_path / "cpis-events.sqlite").exists()


def test_demo_run_again_finds_its_plans_already_stored(tmp_path: Path) -> None:
    run_demo(tmp_path)
    again = run_demo(tmp_path)
    assert again.returncode == 0, again.stderr
    assert "-> unchanged" in again.stdout
    assert again.stdout.count("InformationAccessed") == 4


def test_bad_settings_give_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli.main", "demo"],
        env={"CPIS_EVENT_STORE": "mongo", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("cpis: CPIS_EVENT_STORE must be one of")
    assert "Traceback" not in result.stderr
