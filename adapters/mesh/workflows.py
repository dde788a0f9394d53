"""MESH configuration of CP-IS: workflow ids and local-authority mailboxes.

The real CP-IS workflow ids and mailbox ids are not public; these defaults are our own
(and match infra/mesh/data). Set them per environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Workflows:
    upload: str = "CPIS_LA_UPLOAD"
    upload_ack: str = "CPIS_LA_UPLOAD_ACK"
    access_notification: str = "CPIS_ACCESS_NOTIFICATION"
    inactive_notification: str = "CPIS_INACTIVE_NHS_NUMBER"


@dataclass(frozen=True)
class LaMailboxes:
    """Which MESH mailbox belongs to which local authority (ODS code)."""

    by_ods: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> LaMailboxes:
        """"X26=X26LA001,X27=X27LA001" -> {X26: X26LA001, X27: X27LA001}."""
        pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
        bad = [item for item in pairs if len(item) != 2 or not item[0].strip()]
        if bad:
            raise ValueError(f"LA mailboxes must be ODS=MAILBOX pairs, got {text!r}")
        return cls({ods.strip(): mailbox.strip() for ods, mailbox in pairs})

    def mailbox_of(self, ods_code: str) -> str | None:
        return self.by_ods.get(ods_code)

    def ods_of(self, mailbox: str | None) -> str | None:
        for ods, box in self.by_ods.items():
            if box == mailbox:
                return ods
        return None
