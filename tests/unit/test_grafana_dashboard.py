"""The Grafana dashboard draws only metrics CP-IS's processes export, each panel once."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streams.ops import metrics
from streams.ops.endpoint import Readiness

DASHBOARD = Path(__file__).parents[2] / "infra" / "grafana" / "cpis-dashboard.json"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def exported() -> set[str]:
    """Every family name the metrics module and the readiness collector give."""
    names = {m._name for m in vars(metrics).values() if hasattr(m, "_name")}
    for collector in (metrics.RelayLag, metrics.OutboxState, Readiness):
        names |= {family.name for family in collector.describe(None)}  # type: ignore[arg-type]
    return names


def test_every_panel_draws_exported_metrics() -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    known = exported()
    for panel in panels:
        for target in panel["targets"]:
            for name in re.findall(r"\bcpis_[a-z_]+", target["expr"]):
                base = next((name[: -len(s)] for s in SUFFIXES if name.endswith(s)), name)
                assert base in known or name in known, f"{panel['title']}: {name}"
    assert len({p["title"] for p in panels}) == len(panels)
