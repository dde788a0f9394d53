"""MESH messages CP-IS could not take, kept with their raw bytes for an operator to look at.

One JSON file (what happened) and one data file (the bytes as received) per message, in a
folder only the service's user may read: the bytes hold children's details. `cpis mesh
quarantine` lists them and shows one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class QuarantinedMessage:
    mesh_message_id: str
    sender: str | None
    stage: str  # download | read | file checks | records | storage | reply
    reason: str
    received_at: str  # ISO 8601
    size: int | None  # bytes kept; None where nothing could be downloaded


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class Quarantine:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def keep(self, mesh_message_id: str, sender: str | None, stage: str, reason: str,
             data: bytes | None, now: datetime) -> QuarantinedMessage:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        entry = QuarantinedMessage(mesh_message_id, sender, stage, reason, now.isoformat(),
                                   None if data is None else len(data))
        name = _UNSAFE.sub("_", mesh_message_id)[:100] or "unnamed"
        if data is not None:
            _write_private(self.folder / f"{name}.data", data)
        _write_private(self.folder / f"{name}.json", json.dumps(asdict(entry)).encode())
        return entry

    def entries(self) -> list[QuarantinedMessage]:
        if not self.folder.is_dir():
            return []
        found = [QuarantinedMessage(**json.loads(path.read_text(encoding="utf-8")))
                 for path in self.folder.glob("*.json")]
        return sorted(found, key=lambda e: e.received_at)

    def data(self, mesh_message_id: str) -> bytes | None:
        path = self.folder / f"{_UNSAFE.sub('_', mesh_message_id)[:100]}.data"
        return path.read_bytes() if path.is_file() else None


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
