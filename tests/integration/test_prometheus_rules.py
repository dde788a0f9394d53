"""CP-IS's alert rules are valid Prometheus rules, and each fires on what it is for
(infra/prometheus/alerts_test.yml, run by Prometheus's own promtool)."""

from __future__ import annotations

import subprocess
from pathlib import Path

RULES = Path(__file__).resolve().parents[2] / "infra" / "prometheus"


def test_the_alert_rules_are_valid(promtool_binary: str) -> None:
    checked = subprocess.run([promtool_binary, "check", "rules", "alerts.yml"], cwd=RULES,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout


def test_each_alert_fires_on_its_series_and_not_otherwise(promtool_binary: str) -> None:
    tested = subprocess.run([promtool_binary, "test", "rules", "alerts_test.yml"], cwd=RULES,
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr
