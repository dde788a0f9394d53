"""MESH test helpers: LA mailboxes talking to mesh-sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lxml import etree

from adapters.mesh.mailbox import InboundMessage, Mailbox, MeshSettings
from tests.hl7 import FIXTURES as HL7_FIXTURES

MESH_FIXTURES = HL7_FIXTURES.parent / "mesh"
CPIS_MAILBOX = "CPIS0001"


def mailbox(mesh: tuple[str, str], mailbox_id: str) -> Mailbox:
    return Mailbox(MeshSettings(mesh[0], mailbox_id, "password", mesh[1]))


@contextmanager
def opened(mesh: tuple[str, str], mailbox_id: str) -> Iterator[Mailbox]:
    box = mailbox(mesh, mailbox_id)
    try:
        yield box
    finally:
        box.close()


def la_sends(mesh: tuple[str, str], la_mailbox: str, fixture: str, data: bytes | None = None
             ) -> str:
    with opened(mesh, la_mailbox) as box:
        return box.send(CPIS_MAILBOX, data or (MESH_FIXTURES / fixture).read_bytes(),
                        "CPIS_LA_UPLOAD", "upload", "CP-IS upload", fixture)


def take_all(mesh: tuple[str, str], mailbox_id: str) -> list[InboundMessage]:
    with opened(mesh, mailbox_id) as box:
        messages = [box.retrieve(i) for i in box.inbox()]
        for m in messages:
            box.acknowledge(m.message_id)
    return messages


def xml(message: InboundMessage) -> etree._Element:
    return etree.fromstring(message.data)
