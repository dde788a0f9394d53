"""Records and ledgers are copied out of the application's cache for each command: the copy
must change alone, and the copy is only complete while everything they hold is immutable."""

from __future__ import annotations

import dataclasses
from copy import deepcopy
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.model.access_log import AccessLog
from domain.model.plans import PlanType
from domain.model.record import ChildProtectionRecord
from domain.model.upload_ledger import UploadLedger
from domain.model.uploads import FileCode, UploadOutcome
from tests.builders import CHILD, LA_B, MOTHER, OTHER_CHILD, T0, UPLOAD, access, person, plan

IMMUTABLE = (str, int, float, bool, type(None), Enum, UUID, date, datetime)


def a_record() -> ChildProtectionRecord:
    record = ChildProtectionRecord(nhs_number=CHILD)
    record.register_plan(plan(), UPLOAD, T0)
    record.record_access(access(1), UPLOAD)
    record.merge_in(OTHER_CHILD, [plan(la=LA_B)], [access(2, person("555000000009"))], UPLOAD, T0)
    record.collect_events()
    return record


def state(aggregate: Any) -> dict[str, Any]:
    return {name: deepcopy_free(value) for name, value in vars(aggregate).items()}


def deepcopy_free(value: Any) -> Any:
    """The value with its containers rebuilt (for comparing before and after)."""
    if isinstance(value, list | tuple):
        return [deepcopy_free(v) for v in value]
    if isinstance(value, dict):
        return {k: deepcopy_free(v) for k, v in value.items()}
    if isinstance(value, AccessLog):
        return value.copied()
    return value


def test_a_copied_record_changes_alone() -> None:
    record = a_record()
    before = state(record)
    copied = deepcopy(record)
    copied.record_access(access(3, person("555000000010")), UPLOAD)
    copied.merge_in(MOTHER, [plan(PlanType.LOOKED_AFTER_CHILD)],
                    [access(4)], UPLOAD, T0)
    copied.end_plan(plan().key, datetime(2026, 12, 1), UPLOAD, T0)
    assert state(record) == before
    assert record.collect_events() == []
    assert len(copied.collect_events()) == 3
    assert copied.version == record.version + 3


def test_a_copied_ledger_changes_alone() -> None:
    ledger = UploadLedger(ods_code="X26")
    ledger.record_upload("M1", UploadOutcome(1, FileCode.CPF02, ()))
    ledger.collect_events()
    before = state(ledger)
    copied = deepcopy(ledger)
    copied.record_upload("M2", UploadOutcome(2, FileCode.CPF02, ()))
    copied.record_response("M2", "R2")
    assert state(ledger) == before


def assert_immutable(value: Any, where: str) -> None:
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            assert_immutable(item, f"{where}[]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_immutable(key, f"{where} key")
            assert_immutable(item, f"{where}[{key!r}]")
    elif dataclasses.is_dataclass(value):
        params = getattr(type(value), "__dataclass_params__", None)
        assert params is not None
        assert params.frozen, f"{where} is a mutable dataclass"
        for field in dataclasses.fields(value):
            assert_immutable(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, AccessLog):  # copies itself: what it holds must be immutable
        for name, item in vars(value).items():
            assert_immutable(item, f"{where}.{name}")
    else:
        assert isinstance(value, IMMUTABLE), f"{where} holds a {type(value).__name__}"


def test_every_value_a_record_or_ledger_holds_is_immutable() -> None:
    """What makes copying the containers a full copy (domain/copying.py)."""
    ledger = UploadLedger(ods_code="X26")
    ledger.record_upload("M1", UploadOutcome(1, FileCode.CPF02, ()))
    ledger.record_response("M1", "R1")
    for aggregate in (a_record(), ledger):
        for name, value in vars(aggregate).items():
            if name != "_pending_events":  # events are frozen too, and taken on save
                assert_immutable(value, name)
