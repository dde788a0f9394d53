"""The HL7 element builders: only a message's root declares the namespaces; an author or
local authority is built once and copied for each use (no I/O)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import (
    MESSAGE,
    E,
    Element,
    author,
    content_id,
    local_authority,
    to_bytes,
)
from adapters.hl7v3.soap import Addressing, wrap
from tests.builders import LA_A, person, system


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
        wrap(E(v.RESPONSE), v.RESPONSE, Addressing(None, None, "1", "2"), "ID")


@pytest.mark.parametrize("make", [lambda: author(person("7")), lambda: author(system()),
                                  lambda: local_authority(LA_A)])
def test_a_kept_element_is_copied_for_each_use(make: Callable[[], Element]) -> None:
    first = make()
    MESSAGE("FileResponse", first)  # appended: it has a parent now
    second = make()
    assert second is not first
    assert second.getparent() is None
    assert to_bytes(MESSAGE("FileResponse", second)) == to_bytes(MESSAGE("FileResponse", make()))
