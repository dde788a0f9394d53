"""Who may ask CP-IS: the endpoint registry (a JSON file the operator keeps).

Each registered endpoint is one care-setting system: its ASID, the subject CN of the client
certificate it connects with, the organisations (ODS codes) it may act for, the
interactions it may send, and whether it serves scheduled or unscheduled care (only
scheduled care may make silent reads). The job roles allowed to query apply to every
endpoint.

    {"job_roles": ["R8000", "R8003"],
     "endpoints": [{"asid": "200000000001", "certificate": "ed.example-trust.nhs.uk",
                    "organisations": ["RXX01"], "interactions": ["QUPC_IN000006GB01"],
                    "care": "unscheduled"}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any


class EndpointRegistryError(ValueError):
    """The registry file cannot be read or says something CP-IS cannot use."""


class Care(Enum):
    SCHEDULED = "scheduled"
    UNSCHEDULED = "unscheduled"


@dataclass(frozen=True)
class Endpoint:
    asid: str
    certificate: str | None
    organisations: frozenset[str]
    interactions: frozenset[str]
    care: Care


@dataclass(frozen=True)
class EndpointRegistry:
    endpoints: tuple[Endpoint, ...]
    job_roles: frozenset[str]

    def by_asid(self, asid: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.asid == asid), None)

    def by_certificate(self, subject_cn: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.certificate == subject_cn), None)

    @classmethod
    def load(cls, path: Path) -> EndpointRegistry:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise EndpointRegistryError(
                f"cannot read the endpoint registry {path}: {error.strerror}") from None
        return cls.from_json(text, str(path))

    @classmethod
    def from_json(cls, text: str, source: str = "the endpoint registry") -> EndpointRegistry:
        try:
            raw = json.loads(text)
            registry = cls(tuple(_endpoint(e) for e in raw["endpoints"]),
                           frozenset(_strings(raw["job_roles"], "job_roles")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise EndpointRegistryError(f"{source}: {_why(error)}") from None
        asids = [e.asid for e in registry.endpoints]
        if len(set(asids)) != len(asids):
            raise EndpointRegistryError(f"{source}: an ASID is registered twice")
        return registry


def _why(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing {error.args[0]!r}"
    return str(error)


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{what} must be a list of non-empty strings")
    return value


def _endpoint(raw: dict[str, Any]) -> Endpoint:
    asid = raw["asid"]
    if not isinstance(asid, str) or not asid.isdigit():
        raise ValueError(f"ASID must be digits, got {asid!r}")
    certificate = raw.get("certificate")
    if certificate is not None and not isinstance(certificate, str):
        raise ValueError(f"certificate of ASID {asid} must be a subject CN")
    return Endpoint(asid, certificate,
                    frozenset(_strings(raw["organisations"], f"organisations of ASID {asid}")),
                    frozenset(_strings(raw["interactions"], f"interactions of ASID {asid}")),
                    Care(raw["care"]))
