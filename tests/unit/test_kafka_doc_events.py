"""docs/kafka.md's topic table, which README points users to for the events, names exactly
the message types published on Kafka (the Avro schemas)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_topic_table_lists_every_published_message_type_and_no_other() -> None:
    rows = [line.split("|")[2] for line in (ROOT / "docs" / "kafka.md").read_text().splitlines()
            if line.startswith("| `cpis.")]
    listed = {name for row in rows for name in re.findall(r"`(\w+)`", row)}
    published = {path.name.removesuffix(".avsc").rsplit(".", 1)[-1]
                 for path in (ROOT / "avro").glob("*.avsc")}
    assert listed == published


def test_readme_points_to_the_topic_table() -> None:
    assert "Every event, by topic" in (ROOT / "README.md").read_text()
