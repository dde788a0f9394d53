"""Every `cpis` subcommand's help says what it does, each option's default and the
environment it needs."""

from __future__ import annotations

import argparse

import pytest

from streams.cli.main import parser


def leaves(found: argparse.ArgumentParser, path: tuple[str, ...] = ()
           ) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in found._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(path, found)]
    return [leaf for name, sub in subs[0].choices.items()
            for leaf in leaves(sub, (*path, name))]


LEAVES = leaves(parser())


@pytest.mark.parametrize(("path", "sub"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_each_subcommand_says_what_it_does_and_what_it_needs(
    path: tuple[str, ...], sub: argparse.ArgumentParser
) -> None:
    text = sub.format_help()
    assert sub.description, path
    assert "environment: CPIS_" in text, path
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, (path, action.dest)
            if action.default not in (None, False) and not action.required:
                helped = sub.formatter_class(prog="cpis")._get_help_string(action)
                assert "default" in (helped or ""), (path, action.dest)


def test_there_is_a_leaf_for_every_command() -> None:
    names = {" ".join(p) for p, _ in LEAVES}
    assert {"demo", "serve", "example-query", "mesh", "quarantine list", "quarantine show",
            "topics", "relay", "project", "replay", "pds import", "pds publish", "pds follow",
            "schemas register", "schemas check", "schemas landing", "status", "console",
            "audit history", "audit at", "audit query", "audit accesses"} == names
