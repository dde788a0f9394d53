"""Every topic read by a consumer CP-IS did not write: confluent-kafka's own AvroDeserializer,
which knows nothing of avro/ and finds each writer schema by id in the real registry."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    topic_record_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.errors import NoRecordFoundError
from domain.model.identity import ChangeKind, IdentityChange
from domain.model.provenance import Channel, Provenance
from streams.bootstrap import build_relay, build_wire_format, topics_of
from streams.pds_feed import publish_changes
from streams.settings import Settings
from tests.builders import UPLOAD, person, populate, synthetic_nhs_numbers
from tests.kafka_reading import read_all, topic_schemas

KEYS = ("nhs_number", "ods_code", "sender_asid")  # what each topic's events are keyed by


def fill_every_topic(settings: Settings, app: CpisApplication) -> None:
    numbers = populate(app, children=3, accesses_each=2)  # plans, accesses, notifications
    app.process_upload(parse_la_file(synthetic_file(5)), "ANALYTICS", SyntheticPds.load())
    app.mark_inactive(numbers[2], UPLOAD)  # identity
    unheld = synthetic_nhs_numbers(1, start=700)[0]
    with pytest.raises(NoRecordFoundError):  # recorded for the audit all the same
        app.query(QueryRequest(unheld, person("9"), app.clock() - timedelta(minutes=1),
                               str(uuid.uuid4()), Provenance(Channel.HL7V3, "M-9", asid="1")))
    publish_changes(settings.kafka_bootstrap, build_wire_format(settings),
                    [IdentityChange("F1", ChangeKind.SUPERSEDED, numbers[0], unheld)])
    build_relay(settings, app).run(until_caught_up=True)


def plain(value: Any) -> Any:
    """UUIDs as text, as CP-IS's own reader gives them."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return str(value) if isinstance(value, uuid.UUID) else value


def test_a_plain_avro_deserializer_reads_every_topic_by_registry_id(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    fill_every_topic(stream_settings, stream_app)
    topics = topics_of(stream_settings)
    # the subjects' strategy named: without it confluent-kafka 2.16 first asks for the
    # topic's "associations", a Confluent-only API Apicurio does not answer
    deserialize = AvroDeserializer(
        SchemaRegistryClient({"url": stream_settings.schema_registry_url}),
        conf={"subject.name.strategy": topic_record_subject_name_strategy})
    ours = topic_schemas()
    names: set[str] = set()
    for topic in (*topics.record_events, topics.la_notifications, topics.query_audit,
                  topics.uploads, topics.pds_changes):
        messages = read_all(stream_settings.kafka_bootstrap, topic)
        assert messages, f"nothing on {topic}"
        for message in messages:
            value = message.value()
            assert value[:1] == b"\x00"  # Confluent's wire format, on every topic
            record = deserialize(value, SerializationContext(topic, MessageField.VALUE))
            name, expected = ours.decode(value)
            assert plain(record) == expected
            names.add(name.rsplit(".", 1)[1])
            key = next((record[k] for k in KEYS if k in record), None)
            assert key is None or key.encode() == message.key()
    assert {"PlanRegistered", "InformationAccessed", "NhsNumberMarkedInactive",
            "LocalAuthorityNotificationDue", "NoRecordsFoundAnswered", "UploadProcessed",
            "IdentityChange"} <= names
