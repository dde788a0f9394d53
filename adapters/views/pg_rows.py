"""Row <-> domain value mapping for the PostgreSQL views."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import cache
from typing import Any

from domain.application.projections import AccessRow, NotificationRow, PlanRow
from domain.model.access import Access
from domain.model.authors import Author, author_fields, author_from_fields
from domain.model.local_authority import LocalAuthority
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue, NotificationKind
from domain.model.plans import Plan, PlanDates, PlanType, Subject


def author_json(author: Author) -> dict[str, Any]:
    return author_fields(author)


def author_from_json(data: dict[str, Any]) -> Author:
    if "kind" in data:  # a row written before authors had one form
        data = {_RENAMED.get(k, k): v for k, v in data.items() if k != "kind"}
    return author_from_fields(data)


_RENAMED = {"prefix": "name_prefix", "given": "given_name", "family": "family_name"}


def plan_params(nhs_number: str, plan: Plan, version: int,
                source_file: int | None) -> dict[str, Any]:
    la, dates, subject = plan.local_authority, plan.dates, plan.subject
    return {
        "nhs_number": nhs_number, "ods_code": la.ods_code,
        "plan_type": plan.plan_type.value, "la_name": la.name,
        "office_hours_phone": la.office_hours_phone,
        "emergency_duty_phone": la.emergency_duty_phone, "start_at": dates.start,
        "end_at": dates.end, "delete_at": dates.delete, "given_name": subject.given_name,
        "family_name": subject.family_name, "birth_date": subject.birth_date,
        "local_id": subject.local_id, "version": version, "source_file": source_file,
    }


def plan_row(row: dict[str, Any]) -> PlanRow:
    la = LocalAuthority(row["ods_code"], row["la_name"], row["office_hours_phone"],
                        row["emergency_duty_phone"])
    plan = Plan(
        PlanType(row["plan_type"]), la,
        PlanDates(row["start_at"], row["end_at"], row["delete_at"]),
        Subject(row["given_name"], row["family_name"], row["birth_date"], row["local_id"]),
    )
    return PlanRow(row["nhs_number"], plan, row["version"], row["source_file"])


def access_row(row: dict[str, Any]) -> AccessRow:
    access = Access(row["access_id"], row["accessed_at"], author_from_json(row["author"]))
    return AccessRow(row["nhs_number"], access)


def notification_params(n: NotificationDue,
                        author: Callable[[Author], Any] = author_json) -> dict[str, Any]:
    """The row's columns, the access's author (if any) given as `author` makes it."""
    return {
        "notification_id": n.notification_id, "kind": n.kind.value, "ods_code": n.ods_code,
        "nhs_number": n.nhs_number.value, "record_id": n.record_id, "version": n.version,
        "occurred_at": n.occurred_at,
        "access_id": n.access.access_id if n.access else None,
        "accessed_at": n.access.accessed_at if n.access else None,
        "author": author(n.access.author) if n.access else None,
        "replacement": n.replacement.value if n.replacement else None,
    }


def by_partition(rows: list[dict[str, Any]], column: str) -> dict[tuple[str, int], int]:
    """Rows keyed by Kafka topic and partition, holding an offset `column` (a generation's
    next offsets, the outbox's scanned marks)."""
    return {(str(r["topic"]), int(str(r["partition"]))): int(str(r[column])) for r in rows}


# where a notification came from: the Kafka topic, partition and offset of its event
Source = tuple[str, int, int]


SOURCE_COLUMNS = ("kafka_topic", "kafka_topic_key", "kafka_partition", "kafka_offset")
NO_SOURCE = (None, None, None, None)  # a row written outside a stream


def source_values(source: Source | None) -> tuple[Any, ...]:
    """The notification row's source columns, in SOURCE_COLUMNS' order."""
    if source is None:
        return NO_SOURCE
    topic, partition, offset = source
    return topic, topic_key(topic), partition, offset


def source_params(source: Source | None) -> dict[str, Any]:
    return dict(zip(SOURCE_COLUMNS, source_values(source), strict=True))


@cache
def topic_key(topic: str) -> int:
    """A number for the topic, which the outbox's index leads with instead of its name: a
    replay builds that index over every notification, and with the name first (all but
    the same few names) the build took 1.7 s for 800,000 rows, against 0.5 s. Two topics
    sharing a key would only widen a read, never skip a row (the name is checked too)."""
    return zlib.crc32(topic.encode()) - (1 << 31)  # a PostgreSQL int (signed 32 bits)


def notification_row(row: dict[str, Any]) -> NotificationRow:
    access = None
    if row["access_id"] is not None:
        access = Access(row["access_id"], row["accessed_at"], author_from_json(row["author"]))
    due = NotificationDue(
        notification_id=row["notification_id"], kind=NotificationKind(row["kind"]),
        ods_code=row["ods_code"], nhs_number=NhsNumber(row["nhs_number"]),
        record_id=row["record_id"], version=row["version"], occurred_at=row["occurred_at"],
        access=access,
        replacement=NhsNumber(row["replacement"]) if row["replacement"] else None,
    )
    return NotificationRow(due, row["status"])
