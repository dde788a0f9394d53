"""`cpis schemas register|check` against a real Apicurio Registry: every version of every
schema under its topic-and-record subject, BACKWARD_TRANSITIVE; a change that would break a
reader of a registered version fails the check, one with a default passes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from streams.avro.schemas import DEFAULT_AVRO_DIR
from streams.avro.subjects import schema_versions

ACCESSES = "uk.nhs.cpis.events.InformationAccessed"


def cpis(registry: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "CPIS_SCHEMA_REGISTRY_URL": registry,
           "CPIS_TOPIC_PREFIX": prefix, "CPIS_LOG_FORMAT": "text"}
    return subprocess.run([sys.executable, "-m", "streams.cli.main", "schemas", *args],
                          env=env, capture_output=True, text=True, timeout=120)


def test_every_version_is_registered_oldest_first_under_its_topic_subject(
        schema_registry: str) -> None:
    prefix = f"t{os.urandom(4).hex()}."
    assert cpis(schema_registry, prefix, "register").returncode == 0
    subject = f"{prefix}cpis.accesses.v1-{ACCESSES}"
    versions = httpx.get(f"{schema_registry}/subjects/{subject}/versions").json()
    assert len(versions) == len(schema_versions()[ACCESSES]) == 2
    first = httpx.get(f"{schema_registry}/subjects/{subject}/versions/{versions[0]}").json()
    assert "nominated_job_role_code" not in first["schema"]  # the history's, then current
    config = httpx.get(f"{schema_registry}/config/{subject}").json()
    assert config["compatibilityLevel"] == "BACKWARD_TRANSITIVE"
    due = "uk.nhs.cpis.notifications.LocalAuthorityNotificationDue"
    notifications = httpx.get(
        f"{schema_registry}/subjects/{prefix}cpis.la-notifications.v1-{due}/versions").json()
    assert len(notifications) == len(schema_versions()[due])
    again = cpis(schema_registry, prefix, "register")  # nothing new: ids unchanged
    assert again.returncode == 0
    assert httpx.get(f"{schema_registry}/subjects/{subject}/versions").json() == versions


def _changed(tmp_path: Path, field: dict[str, object]) -> Path:
    avro = tmp_path / "avro"
    shutil.copytree(DEFAULT_AVRO_DIR, avro)
    path = avro / f"{ACCESSES}.avsc"
    schema = json.loads(path.read_text())
    schema["fields"].append(field)
    path.write_text(json.dumps(schema))
    return avro


def test_check_fails_on_a_field_without_a_default_and_passes_with_one(
        schema_registry: str, tmp_path: Path) -> None:
    prefix = f"t{os.urandom(4).hex()}."
    assert cpis(schema_registry, prefix, "register").returncode == 0
    assert cpis(schema_registry, prefix, "check").returncode == 0
    breaking = _changed(tmp_path / "a", {"name": "ward", "type": "string", "doc": "Ward."})
    failed = cpis(schema_registry, prefix, "check", "--avro-dir", str(breaking))
    assert failed.returncode == 1
    assert f"cpis.accesses.v1-{ACCESSES}: the schema in avro/ cannot read version" in \
        failed.stderr
    kind = _changed(tmp_path / "b", {"name": "ward", "type": ["null", "string"],
                                     "default": None, "doc": "Ward."})
    assert cpis(schema_registry, prefix, "check", "--avro-dir", str(kind)).returncode == 0


def test_without_a_registry_the_command_says_how_to_start_one() -> None:
    done = subprocess.run([sys.executable, "-m", "streams.cli.main", "schemas", "check"],
                          env={"PATH": os.environ.get("PATH", "")}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "infra/registry.sh start" in done.stderr
