"""A notification row's source columns, and the topic key the outbox's index leads with."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.views.pg_rows import SOURCE_COLUMNS, source_params, source_values, topic_key
from streams.kafka.topics import Topics


@given(st.text(min_size=1, max_size=249))
def test_a_topic_key_fits_a_postgresql_int(topic: str) -> None:
    assert -(2**31) <= topic_key(topic) < 2**31


def test_the_record_topics_have_keys_of_their_own() -> None:
    """Notifying topics sharing a key would make each read cover the other's rows too."""
    for prefix in ("", "bench1a2b3c4d.", "test-"):
        topics = Topics(prefix).record_events
        assert len({topic_key(t) for t in topics}) == len(topics)


def test_a_source_gives_each_column_and_no_source_gives_nulls() -> None:
    assert source_params(("cpis.accesses.v1", 2, 41)) == {
        "kafka_topic": "cpis.accesses.v1", "kafka_topic_key": topic_key("cpis.accesses.v1"),
        "kafka_partition": 2, "kafka_offset": 41}
    assert source_values(None) == (None,) * len(SOURCE_COLUMNS)
