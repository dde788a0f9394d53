"""Print rows as a readable table or as JSON lines (one object per line).

Tables fit a width (120 columns, or the terminal's when wider) by wrapping one column's
text onto further lines; `--json` keeps every field whole. Times print in one zone, UK
time (Europe/London), labelled in the headers; JSON keeps ISO 8601 with its offset.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import textwrap
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

Print = Callable[[str], None]
UK = ZoneInfo("Europe/London")
WIDTH = 120


def plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def json_lines(rows: Sequence[Any], out: Print = print) -> None:
    for row in rows:
        out(json.dumps(plain(row), ensure_ascii=False, sort_keys=True))


def uk_time(moment: datetime | None, seconds: bool = True) -> str:
    """A moment in UK time, to the millisecond where `seconds` (events stored in one
    second stay apart); "-" for none. A moment without a zone (a plan date) is UK time
    already."""
    if moment is None:
        return "-"
    local = moment.astimezone(UK) if moment.tzinfo else moment
    return local.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if seconds else \
        local.strftime("%Y-%m-%d %H:%M")


def plural(count: int, noun: str, nouns: str = "") -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


def say(text: str, out: Print = print, width: int = WIDTH) -> None:
    """A sentence of a report, wrapped at `width`."""
    out("\n".join(textwrap.wrap(text, width)) if text else "")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: Print = print,
          wrap: int | None = None, width: int | None = None,
          notes: Sequence[Sequence[str]] | None = None) -> None:
    """Columns padded to their widest cell; where the table is wider than `width`, column
    `wrap` (default the last) takes what is left and its text wraps. `notes` (one list a
    row) follow their row, indented and wrapped to the width."""
    width = width or max(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns)
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    flexible = len(headers) - 1 if wrap is None else wrap
    spare = width - (sum(widths) + 2 * (len(widths) - 1) - widths[flexible])
    widths[flexible] = max(min(widths[flexible], spare), 16)
    out(_line(list(headers), widths))
    out("  ".join("-" * w for w in widths))
    for number, row in enumerate(cells):
        pieces = [textwrap.wrap(v, widths[i]) or [""] if i == flexible else [v]
                  for i, v in enumerate(row)]
        for n in range(max(len(p) for p in pieces)):
            out(_line([p[n] if n < len(p) else "" for p in pieces], widths))
        for note in notes[number] if notes else ():
            for line in textwrap.wrap(note, width, initial_indent="    ",
                                      subsequent_indent="      "):
                out(line)


def _line(values: list[str], widths: list[int]) -> str:
    return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return uk_time(value)
    return str(plain(value))
