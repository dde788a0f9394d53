"""Every way of starting the suite's services runs the same versions."""

import re
from pathlib import Path

from tests.containers import MESH_SANDBOX, kafka_image

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_the_kafka_the_scripts_run() -> None:
    images = re.findall(r"image: (apache/kafka:\S+)", (ROOT / "docker-compose.yml").read_text())
    assert images == [kafka_image()]


def test_every_mesh_sandbox_is_the_same_release() -> None:
    for path in ("docker-compose.yml", "infra/mesh.sh"):
        pins = re.findall(r"mesh-sandbox==[0-9.]+", (ROOT / path).read_text())
        assert pins == [MESH_SANDBOX], path
