"""docker-compose.yml, read as a Docker engine would (none runs here): every CP-IS service
names real settings, reaches hosts that are services of the file, runs a real `cpis`
command, and Prometheus scrapes the ports the processes serve their metrics on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from streams.cli.main import parser as build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
CPIS = {name: s for name, s in SERVICES.items() if s.get("image") == "cpis"}
SETTINGS = {name for path in ("streams/settings.py", "streams/settings_parts.py",
                              "streams/console/config.py")
            for name in re.findall(r"CPIS_[A-Z_]+", (ROOT / path).read_text())}
LOCAL = {"0.0.0.0", "127.0.0.1", "localhost"}  # noqa: S104 - names compared, nothing bound


def hosts(value: str) -> set[str]:
    """The hosts a setting's value points at: a URL's, or a host:port's."""
    if "://" in value:
        return {urlparse(value).hostname or ""}
    return {part.split(":")[0] for part in value.split(",") if ":" in part}


def test_every_long_running_process_has_a_service() -> None:
    commands = {tuple(s["command"][:2]) if s["command"][0] == "pds" else s["command"][0]
                for s in CPIS.values() if "command" in s}
    assert commands >= {"relay", "project", "mesh", "serve", ("pds", "follow"), "console"}


def test_every_cpis_setting_is_a_real_one_pointing_at_a_service() -> None:
    for name, service in CPIS.items():
        for key, value in service["environment"].items():
            assert key in SETTINGS, f"{name}: {key} is no setting streams/ reads"
            if key.endswith(("_URL", "_BOOTSTRAP", "_HOST", "_ISSUER")):
                for host in hosts(str(value)) - LOCAL:
                    assert host in SERVICES, f"{name}: {key} points at {host}, no service"


def test_every_command_is_one_the_cli_takes() -> None:
    parser = build_parser()
    for name, service in CPIS.items():
        if "command" in service:
            args = parser.parse_args(service["command"])
            assert args.handler is not None, name


def test_prometheus_scrapes_each_process_on_its_metrics_port() -> None:
    config = yaml.safe_load((ROOT / "infra" / "prometheus" / "compose.yml").read_text())
    targets = set(config["scrape_configs"][0]["static_configs"][0]["targets"])
    served = {f"{name}:{s['command'][s['command'].index('--metrics-port') + 1]}"
              for name, s in CPIS.items() if "--metrics-port" in s.get("command", [])}
    assert targets == served
    assert {"cpis-relay", "cpis-projector", "cpis-mesh"} <= {t.split(":")[0] for t in served}


def test_kafka_tells_containers_and_the_host_each_their_own_address() -> None:
    kafka = SERVICES["kafka"]["environment"]
    advertised = kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert "INTERNAL://kafka:29092" in advertised
    assert "EXTERNAL://127.0.0.1:9092" in advertised
    assert {s["environment"]["CPIS_KAFKA_BOOTSTRAP"] for s in CPIS.values()} == {"kafka:29092"}


def test_the_image_runs_as_a_user_not_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER cpis$", dockerfile, re.MULTILINE)
    assert "[dev]" not in dockerfile  # the runtime only
