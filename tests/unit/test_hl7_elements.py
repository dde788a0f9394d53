"""The HL7 element builders: only a message's root declares the namespaces (no I/O)."""

from __future__ import annotations

import pytest

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import MESSAGE, E, content_id, to_bytes
from adapters.hl7v3.soap import wrap


def sample(root: str = "FileResponse") -> bytes:
    return to_bytes(MESSAGE(root, E.id(extension="1"), content_id("T#C"),
                            E.name(E.given("Amy"), " and ", E.family("Example"), " all")))


def test_a_message_declares_its_namespaces_once_on_its_root() -> None:
    written = sample()
    assert written.count(b"xmlns=") == 1
    assert written.count(b"xmlns:npfitlc=") == 1
    assert b"ns0" not in written
    assert b'<FileResponse xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation">' \
        in written


def test_text_goes_after_the_last_child_as_elementmaker_put_it() -> None:
    assert b"<name><given>Amy</given> and <family>Example</family> all</name>" in sample()


def test_a_root_built_without_its_declarations_is_refused() -> None:
    with pytest.raises(ValueError, match="build a message's root with MESSAGE"):
        to_bytes(E.FileResponse(E.id(extension="1")))
    with pytest.raises(ValueError, match="build a message's root with MESSAGE"):
        wrap(E(v.RESPONSE), v.RESPONSE, None)
