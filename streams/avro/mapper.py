"""Events stored as the Avro messages the relay publishes.

A record or upload-ledger event is stored as its Avro single-object encoding
(streams/avro/schemas.py) with `position` 0: the event-store position is only known once
stored. The PostgreSQL recorder writes it in as it copies a large save; otherwise the relay
writes it in as it publishes (streams/avro/stored.py). So the relay
publishes stored bytes, instead of rebuilding each event and encoding it again; the stored
form is also a documented, versioned schema (`avro/`), about a fifth the size of the JSON.

Reading takes either form: events stored as JSON by the library's mapper (before this, or by
an application built without this mapper) are read by that mapper, as is any event type with
no Avro codec. A compressor or cipher configured for the application applies to both.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic

from domain.application.store import MapperChoice
from streams.avro.codec import CODECS, UnknownEventError, decode_event, encode_event
from streams.avro.schemas import MAGIC, AvroError, AvroSchemas

STORED_POSITION = 0  # what an event holds in `position` until the relay publishes it


class AvroEventMapper(Mapper[UUID]):
    def __init__(self, json_mapper: Mapper[UUID], registry: AvroSchemas) -> None:
        super().__init__(json_mapper.transcoder, json_mapper.compressor, json_mapper.cipher)
        self.json_mapper = json_mapper
        self.registry = registry

    @property
    def stores_plain_avro(self) -> bool:
        """True when stored state is the Avro message itself (neither compressed nor
        encrypted), so the relay can publish it as it is."""
        return self.compressor is None and self.cipher is None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if type(domain_event) not in CODECS:
            return self.json_mapper.to_stored_event(domain_event)
        state = self.registry.encode(*encode_event(domain_event, STORED_POSITION))
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(originator_id=domain_event.originator_id,
                           originator_version=domain_event.originator_version,
                           topic=get_topic(type(domain_event)), state=state)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        if not state.startswith(MAGIC):
            return self.json_mapper.to_domain_event(stored_event)  # stored as JSON
        try:
            event, _ = decode_event(*self.registry.decode(state))
        except (AvroError, UnknownEventError, TypeError, KeyError) as error:
            raise MapperDeserialisationError(
                f"cannot read the Avro event stored as {stored_event.topic} "
                f"{stored_event.originator_id} v{stored_event.originator_version}: {error}"
            ) from error
        if get_topic(type(event)) != stored_event.topic:
            raise MapperDeserialisationError(
                f"stored event {stored_event.originator_id} v{stored_event.originator_version}"
                f" is {stored_event.topic} but holds an Avro {type(event).__name__}")
        return event


def avro_mapper(registry: AvroSchemas) -> MapperChoice:
    """The application's mapper choice (domain/application.py MapperChoice)."""

    def choose(json_mapper: Mapper[UUID]) -> Mapper[UUID]:
        return AvroEventMapper(json_mapper, registry)

    return choose
