"""Summary of a same-run A/B (infra/bench-ab.sh): each benchmark's median at the base and at
the head, head/base, and the same for the ratio to its own baseline (which takes out most of
the machine's drift between rounds).

    python -m bench.ab bench/results/ab BASE
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

LOWER_IS_BETTER = ("ms", "s")  # units whose first word is a time


def rounds(folder: Path, side: str) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob(f"{side}-*.json"))]


def by_name(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        for result in run["results"]:
            found.setdefault(result["name"], []).append(result)
    return found


def median(results: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def verdict(base: float, head: float, unit: str) -> str:
    better_up = unit.split()[0] not in LOWER_IS_BETTER
    change = head / base if better_up else base / head
    return "faster" if change > 1.10 else ("within 10%" if change >= 0.90 else "SLOWER")


def summary(folder: Path, base_name: str) -> str:
    base, head = by_name(rounds(folder, "base")), by_name(rounds(folder, "head"))
    lines = [f"Same-run A/B: base {base_name} against head, medians of each side's rounds.",
             "", "| benchmark | base | head | head/base | ratio to baseline, base -> head | "
             "verdict |", "|---|---|---|---|---|---|"]
    for name, head_results in head.items():
        base_results = base.get(name, [])
        unit = head_results[0]["unit"]
        b, h = median(base_results, "value"), median(head_results, "value")
        if b is None or h is None:
            continue
        rb, rh = median(base_results, "ratio"), median(head_results, "ratio")
        ratios = f"{rb:.0%} -> {rh:.0%}" if rb is not None and rh is not None else "-"
        lines.append(f"| {name} | {b:,.1f} {unit} | {h:,.1f} {unit} | {h / b:.2f} | {ratios} | "
                     f"{verdict(b, h, unit)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    folder, base_name = Path(sys.argv[1]), sys.argv[2]
    text = summary(folder, base_name)
    (folder / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
