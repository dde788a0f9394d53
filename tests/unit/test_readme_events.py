"""README's event list names exactly the events published on Kafka (the Avro schemas)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_published_event_and_no_other() -> None:
    readme = (ROOT / "README.md").read_text()
    paragraph = readme[readme.index("Events (the names published"):]
    paragraph = paragraph[:paragraph.index("Schemas and encoding")]
    listed = set(re.findall(r"`(\w+)`", paragraph))
    published = {path.name.removesuffix(".avsc").rsplit(".", 1)[-1]
                 for path in (ROOT / "avro").glob("*.avsc")} - {"IdentityChange"}
    assert listed == published
