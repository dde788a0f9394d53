"""Read a batch of PDS identity changes from CSV or JSON (an array or JSON lines).

Columns / keys: feed_id, change (superseded | retired), nhs_number, replacement.
Each row is read on its own: a bad row is reported with its line and the reason, and the
others still count.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from domain.model.errors import DomainError
from domain.model.identity import ChangeKind, IdentityChange
from domain.model.nhs_number import NhsNumber


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


Row = IdentityChange | BadRow


def change_from(raw: dict[str, Any], line: int) -> Row:
    try:
        kind = ChangeKind(str(raw.get("change", "")).strip().lower())
    except ValueError:
        return BadRow(line, f"change must be superseded or retired, got {raw.get('change')!r}")
    try:
        replacement = str(raw.get("replacement") or "").strip()
        return IdentityChange(
            feed_id=str(raw.get("feed_id") or "").strip(), kind=kind,
            nhs_number=NhsNumber.parse(str(raw.get("nhs_number") or "")),
            replacement=NhsNumber.parse(replacement) if replacement else None)
    except DomainError as error:
        return BadRow(line, str(error))


def read_changes(text: str, filename: str) -> Iterator[Row]:
    if filename.lower().endswith(".csv"):
        yield from _csv_rows(text)
        return
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            yield BadRow(error.lineno, f"not valid JSON: {error.msg}")
            return
        for number, item in enumerate(items, start=1):
            yield change_from(item, number) if isinstance(item, dict) else BadRow(
                number, "each item must be an object")
        return
    for line, content in enumerate(text.splitlines(), start=1):
        if content.strip():
            yield _json_line(content, line)


def _json_line(content: str, line: int) -> Row:
    try:
        item = json.loads(content)
    except json.JSONDecodeError as error:
        return BadRow(line, f"not valid JSON: {error.msg}")
    return change_from(item, line) if isinstance(item, dict) else BadRow(
        line, "each line must be a JSON object")


def _csv_rows(text: str) -> Iterator[Row]:
    """Each CSV row; a file the csv module cannot go on reading ends with a bad row."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    line = 1
    try:
        for raw in reader:
            line = reader.line_num
            yield change_from(raw, line)
    except csv.Error as error:
        yield BadRow(reader.line_num or line, f"not readable CSV: {error}")
