"""A thin typed wrapper over NHS England's mesh-client: one mailbox, opened lazily."""

from __future__ import annotations

from dataclasses import dataclass

from mesh_client import MeshClient


@dataclass(frozen=True)
class MeshSettings:
    url: str
    mailbox: str
    password: str
    shared_key: str


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    message_type: str  # DATA, or REPORT for an error report
    sender: str | None
    workflow_id: str | None
    local_id: str | None
    data: bytes
    linked_message_id: str | None = None
    status_code: str | None = None
    status_description: str | None = None


class Mailbox:
    """No network call until first used; `close()` when done."""

    def __init__(self, settings: MeshSettings) -> None:
        self.settings = settings
        self._client: MeshClient | None = None

    @property
    def client(self) -> MeshClient:
        if self._client is None:
            s = self.settings
            self._client = MeshClient(s.url, s.mailbox, s.password,
                                      shared_key=s.shared_key.encode(), max_retries=1)
        return self._client

    def inbox(self) -> list[str]:
        return list(self.client.list_messages())

    def retrieve(self, message_id: str) -> InboundMessage:
        message = self.client.retrieve_message(message_id)
        try:
            data = message.read()
        finally:
            message.close()  # type: ignore[no-untyped-call]
        header = message.mex_header
        return InboundMessage(
            message_id=message_id, message_type=str(header("messagetype", "DATA")),
            sender=message.sender, workflow_id=message.workflow_id, local_id=message.local_id,
            data=data, linked_message_id=header("linkedmsgid"),
            status_code=header("statuscode"), status_description=header("statusdescription"))

    def acknowledge(self, message_id: str) -> None:
        self.client.acknowledge_message(message_id)

    def send(self, recipient: str, data: bytes, workflow_id: str, local_id: str,
             subject: str, filename: str) -> str:
        return str(self.client.send_message(
            recipient, data, workflow_id=workflow_id, local_id=local_id, subject=subject,
            filename=filename, content_type="application/xml"))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
