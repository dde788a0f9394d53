"""The relay's fast path: a stored plan event's JSON straight to its Avro record.

Rebuilding each domain event (eventsourcing's JSON object hook, then the dataclasses) cost
the relay more than half of its time. Plan events and RecordOpened - the bulk of every LA
upload, and events that cause no LA notification - are read here with plain `orjson.loads`
and mapped field by field from the stored layout (domain/transcodings.py) to the Avro
layout (streams/event_codec.py). Every other event takes the domain path.

A unit test checks, for generated events of every type here, that both paths give the same
record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent

from domain.record import ChildProtectionRecord as Record
from streams.event_codec import NS, OPERATOR, AvroRecord, provenance_out

Stored = dict[str, Any]


def _data(wrapped: Stored) -> Any:
    """The `_data_` of a transcoded value ({"_type_": name, "_data_": data})."""
    return wrapped["_data_"]


def _datetime(wrapped: Stored | None) -> datetime | None:
    return None if wrapped is None else datetime.fromisoformat(wrapped["_data_"])


def _date(wrapped: Stored | None) -> date | None:
    return None if wrapped is None else date.fromisoformat(wrapped["_data_"])


def _provenance(wrapped: Stored) -> AvroRecord:
    p = wrapped["_data_"]
    return {"channel": p["channel"]["_data_"], "message_id": p["message_id"],
            "file_sequence": p["file_sequence"], "asid": p["asid"]}


def _plan(wrapped: Stored) -> AvroRecord:
    plan = wrapped["_data_"]
    dates, subject = plan["dates"]["_data_"], plan["subject"]["_data_"]
    return {
        "plan_type": plan["plan_type"]["_data_"],
        "local_authority": plan["local_authority"]["_data_"],
        "start": _datetime(dates["start"]), "end": _datetime(dates["end"]),
        "delete": _datetime(dates["delete"]),
        "subject": {"given_name": subject["given_name"], "family_name": subject["family_name"],
                    "birth_date": _date(subject["birth_date"]),
                    "local_id": subject["local_id"]},
    }


def _plan_fields(state: Stored) -> AvroRecord:
    return {"plan": _plan(state["plan"])}


def _ended_fields(state: Stored) -> AvroRecord:
    return {"ods_code": state["ods_code"], "plan_type": _data(state["plan_type"]),
            "end": _datetime(state["end"])}


def _deleted_fields(state: Stored) -> AvroRecord:
    return {"ods_code": state["ods_code"], "plan_type": _data(state["plan_type"]),
            "delete": _datetime(state["delete"])}


def _no_fields(_: Stored) -> AvroRecord:
    return {}


FAST: dict[str, tuple[str, Callable[[Stored], AvroRecord]]] = {
    Record.Opened.TOPIC: (f"{NS}.RecordOpened", _no_fields),
    Record.PlanRegistered.TOPIC: (f"{NS}.PlanRegistered", _plan_fields),
    Record.PlanUpdated.TOPIC: (f"{NS}.PlanUpdated", _plan_fields),
    Record.PlanEnded.TOPIC: (f"{NS}.PlanEnded", _ended_fields),
    Record.PlanDeleted.TOPIC: (f"{NS}.PlanDeleted", _deleted_fields),
}
_OPERATOR = provenance_out(OPERATOR)


def plan_event_record(stored: StoredEvent, position: int) -> tuple[str, str, AvroRecord] | None:
    """(NHS number, Avro full name, record) of a stored plan event or RecordOpened; None for
    any other event (the caller takes the domain path)."""
    fast = FAST.get(stored.topic)
    if fast is None:
        return None
    full_name, fields = fast
    state: Stored = orjson.loads(stored.state)
    if "class_version" in state:  # an upcast event: only the domain path knows how
        return None
    nhs_number: str = state["nhs_number"]["_data_"]
    provenance = state.get("provenance")
    record: AvroRecord = {
        "version": stored.originator_version, "position": position,
        "recorded_at": _datetime(state["timestamp"]), "record_id": str(stored.originator_id),
        "nhs_number": nhs_number,
        "provenance": _OPERATOR if provenance is None else _provenance(provenance),
    }
    record.update(fields(state))
    return nhs_number, full_name, record
