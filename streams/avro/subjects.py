"""Which registry subjects the topics' schemas go under, and every version of each schema,
oldest first, as `cpis schemas register` registers them.

Subjects by record name per topic (Confluent's TopicRecordNameStrategy: `<topic>-<full
name>`), as a topic carries several event types; each subject is BACKWARD_TRANSITIVE, so a
reader with the newest schema reads every message ever written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from streams.avro.schemas import DEFAULT_AVRO_DIR
from streams.avro.values import NOTIFICATION_SCHEMA
from streams.kafka.topics import Topics

PDS_SCHEMA = "uk.nhs.cpis.pds.IdentityChange"  # streams/pds_feed.py's
COMPATIBILITY = "BACKWARD_TRANSITIVE"
_VERSION = re.compile(r"^(?P<name>.+)\.v(?P<version>\d+)$")


@dataclass(frozen=True)
class Subject:
    name: str  # <topic>-<full name>
    full_name: str
    versions: tuple[str, ...]  # the schema texts, oldest first, the current last


def topic_of(full_name: str, topics: Topics) -> str:
    if full_name == NOTIFICATION_SCHEMA:
        return topics.la_notifications
    if full_name == PDS_SCHEMA:
        return topics.pds_changes
    return topics.stored_topics[full_name]


def schema_versions(avro_dir: Path = DEFAULT_AVRO_DIR) -> dict[str, list[str]]:
    """Each schema's full name -> its texts, oldest first (history/X.v1, v2, ..., then the
    current X.avsc)."""
    versions: dict[str, list[tuple[int, str]]] = {}
    for path in (avro_dir / "history").glob("*.avsc"):
        match = _VERSION.match(path.stem)
        if match is not None:
            versions.setdefault(match["name"], []).append(
                (int(match["version"]), compact_text(path)))
    out: dict[str, list[str]] = {}
    for path in sorted(avro_dir.glob("*.avsc")):
        old = [text for _, text in sorted(versions.get(path.stem, []))]
        out[path.stem] = [*old, compact_text(path)]
    return out


def compact_text(path: Path) -> str:
    """A schema file's text as it is registered, and looked up (streams/avro/wire.py)."""
    return json.dumps(json.loads(path.read_text()), separators=(",", ":"))


def subjects(topics: Topics, avro_dir: Path = DEFAULT_AVRO_DIR) -> list[Subject]:
    return [Subject(f"{topic_of(name, topics)}-{name}", name, tuple(texts))
            for name, texts in schema_versions(avro_dir).items()]
