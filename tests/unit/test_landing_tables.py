"""The analytics landing tables: a nullable column for each leaf field of every event type a
topic carries, named as Connect's Flatten and Apicurio's converter name them."""

from __future__ import annotations

import re

import pytest

from streams.avro.landing import landing_tables, leaf_columns
from streams.kafka.topics import Topics

TOPICS = Topics("p.")


def columns(ddl: str) -> dict[str, str]:
    return dict(re.findall(r'^  "([^"]+)" ([a-z ]+(?:\[\])?),?$', ddl, re.MULTILINE))


def test_a_topic_of_several_event_types_gets_every_types_columns_all_nullable() -> None:
    ddl = landing_tables(TOPICS, [TOPICS.plans], "analytics")
    assert ddl.startswith('CREATE TABLE IF NOT EXISTS "analytics"."p_cpis_plans_v1" (')
    found = columns(ddl)
    assert {"record_id", "position", "plan_local_authority_ods_code",  # PlanRegistered
            "end", "delete", "ods_code"} <= set(found)  # PlanEnded, PlanDeleted
    assert "NOT NULL" not in ddl.upper()
    assert found["plan_subject_birth_date"] == "date"  # a logical type Connect has
    assert found["recorded_at"] == "bigint"  # micros: Connect has none, the long stays


def test_unions_of_records_name_each_branch_and_arrays_keep_their_items_type() -> None:
    found = columns(landing_tables(TOPICS, [TOPICS.accesses], "analytics"))
    assert found["notify"] == "text[]"
    assert found["access_author_PersonAuthor_family_name"] == "text"
    assert found["access_author_SystemAuthor_asid"] == "text"


def test_a_nullable_record_is_flattened_like_a_record() -> None:
    fields = [{"name": "a", "type": ["null", {"type": "record", "name": "R", "fields": [
        {"name": "b", "type": "long"}]}]}]
    assert leaf_columns(fields) == {"a_b": "bigint"}


def test_a_topic_with_no_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no event type is published on p\.nope"):
        landing_tables(TOPICS, ["p.nope"], "analytics")
