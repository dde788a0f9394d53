"""The HTTP front of the query service (Starlette, in process)."""

from __future__ import annotations

from starlette.testclient import TestClient

from streams.http_server import build_http_app
from tests.hl7 import fixture, hl7_of, seeded_app, service, soap, xp


def client() -> TestClient:
    return TestClient(build_http_app(service(seeded_app())))


def test_soap_query_is_answered_over_http() -> None:
    response = client().post("/cpisquery", content=soap(fixture("query_person.xml")),
                             headers={"Content-Type": "text/xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert xp(hl7_of(response.content), "//hl7:queryResponseCode/@code") == ["OK"]


def test_silent_read_header_is_honoured() -> None:
    response = client().post("/cpisquery", content=soap(fixture("query_person.xml")),
                             headers={"IsUnscheduledAccessEvent": "false"})
    assert xp(hl7_of(response.content),
              "//hl7:pertinentTotalReturnedAccessRecords/hl7:value/@value") == ["0"]


def test_health() -> None:
    assert client().get("/health").text == "ok"


def test_a_body_over_the_limit_is_refused_with_413() -> None:
    response = client().post("/cpisquery", content=b"<" * 1_000_050)
    assert response.status_code == 413
    assert xp(hl7_of(response.content),
              "//hl7:justifyingDetectedIssueEvent/hl7:code/@code") == ["MESSAGE_TOO_LARGE"]


def test_get_on_the_query_endpoint_is_not_allowed() -> None:
    assert client().get("/cpisquery").status_code == 405
