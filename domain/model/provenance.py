"""Where a command came from, recorded on every event so the audit can trace it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Channel(Enum):
    MESH = "mesh"
    HL7V3 = "hl7v3"
    PDS = "pds"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Provenance:
    """The input behind an event: channel, message id, LA file sequence, ASID, feed id."""

    channel: Channel
    message_id: str | None = None
    file_sequence: int | None = None
    asid: str | None = None

    @classmethod
    def operator(cls, note: str = "cli") -> Provenance:
        return cls(Channel.OPERATOR, message_id=note)

    def describe(self) -> str:
        parts = [self.channel.value]
        if self.message_id:
            parts.append(f"message {self.message_id}")
        if self.file_sequence is not None:
            parts.append(f"file #{self.file_sequence}")
        if self.asid:
            parts.append(f"ASID {self.asid}")
        return " ".join(parts)
