"""`cpis example-query` prints a query the service takes as it is: README's curl depends on it."""

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from adapters.hl7v3.query_parser import parse_query
from streams.cli.main import main


def printed(capsys: pytest.CaptureFixture[str], *args: str) -> etree._Element:
    assert main(["example-query", *args]) == 0
    return etree.fromstring(capsys.readouterr().out.encode())


def test_the_example_is_a_valid_query_for_the_number_dated_now(
        capsys: pytest.CaptureFixture[str]) -> None:
    query = parse_query(printed(capsys, "9990000018"))
    assert query.nhs_number.value == "9990000018"
    assert query.sender_asid == "200000000001"
    assert abs(query.effective_time - datetime.now(UTC)) < timedelta(minutes=1)


def test_each_example_is_a_new_access(capsys: pytest.CaptureFixture[str]) -> None:
    first, second = (parse_query(printed(capsys, "9990000018")) for _ in range(2))
    assert first.event_id != second.event_id
    assert first.message_id != second.message_id


def test_the_scheduled_example_comes_from_the_gp_practice(
        capsys: pytest.CaptureFixture[str]) -> None:
    query = parse_query(printed(capsys, "9990000018", "--scheduled"))
    assert query.sender_asid == "200000000002"
    assert query.author.organisation_ods == "A99001"


def test_an_invalid_number_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example-query", "123"]) == 2
    assert "NHS number" in capsys.readouterr().err
