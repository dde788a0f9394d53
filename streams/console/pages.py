"""The console's pages. Each reads what it shows from the event store (or the outbox, the
dead-letter topic, the quarantine), and a page that shows a child's data records the look
first (OperatorLooked), so no child's data is shown without a trace."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request

from domain.application import audit
from domain.application.app import CpisApplication
from domain.application.audit_reads import reads_by_organisation
from domain.application.upload_history import uploads_of
from domain.model.nhs_number import NhsNumber
from streams.cli.status import gather
from streams.console import forms, sources
from streams.console.auth import Operator
from streams.logs import mask_nhs_numbers
from streams.settings import Settings

Context = dict[str, Any]


@dataclass
class Console:
    """What every page needs: the settings, the application, who is looking, the issuer."""

    settings: Settings
    app: CpisApplication
    clock: Callable[[], datetime]

    def look(self, operator: Operator, nhs_number: NhsNumber, viewed: str) -> None:
        self.app.record_look(nhs_number, operator.identity, self.settings.console.issuer,
                             viewed)


def record_page(console: Console, operator: Operator, request: Request) -> Context:
    number = forms.nhs_number(request.query_params.get("nhs"))
    at = forms.moment(request.query_params.get("at"), "point in time")
    viewed = "record" if at is None else f"record as at {at.isoformat(timespec='minutes')}"
    console.look(operator, number, viewed)
    try:
        timeline = audit.full_history(console.app, number)
    except audit.AuditError as error:
        return {"nhs": number, "missing": str(error)}
    held = audit.record_at(console.app, number, at) if at is not None else None
    record = console.app.find_record(number)
    return {"nhs": number, "plans": console.app.current_plans(number), "timeline": timeline,
            "at": at, "held": held, "at_text": request.query_params.get("at", ""),
            "superseded_by": record.superseded_by if record else None,
            "merged_from": record.merged_from if record else (),
            "looks": console.app.looks_at(number)
            if console.settings.console.auditor_role in operator.roles else None}


def query_page(console: Console, operator: Operator, request: Request) -> Context:
    number = forms.nhs_number(request.query_params.get("nhs"))
    access_id = forms.access_id(request.query_params.get("access"))
    console.look(operator, number, f"query {access_id}")
    try:
        given = audit.query_given(console.app, number, access_id)
    except audit.AuditError as error:
        return {"nhs": number, "access_id": access_id, "missing": str(error)}
    return {"nhs": number, "access_id": access_id, "given": given}


def accesses_page(console: Console, operator: Operator, request: Request) -> Context:
    params = request.query_params
    start, end = forms.period(params.get("from"), params.get("to"),
                              console.clock().astimezone(forms.UK).date())
    org = forms.ods_code(params.get("org"), required=False)
    report = reads_by_organisation(console.app, start, end, org)
    return {"start": start, "end": end, "org": org or "", "report": report,
            "from_text": start.date().isoformat(),
            "to_text": (end - timedelta(days=1)).date().isoformat(),
            "chart": {"labels": [r.ods_code for r in report.rows],
                      "accesses": [r.accesses for r in report.rows],
                      "silent": [r.silent_reads for r in report.rows],
                      "refused": [r.refused for r in report.rows]}}


def uploads_page(console: Console, operator: Operator, request: Request) -> Context:
    la = request.query_params.get("la")
    known = sorted(console.settings.la_mailboxes.by_ods)
    if not la:
        return {"known": known, "la": "", "uploads": None}
    code = forms.ods_code(la)
    uploads = list(reversed(uploads_of(console.app, code or "")))
    for upload in uploads:  # the page is about files: no child's NHS number on it
        upload.detail = mask_nhs_numbers(upload.detail)
        upload.record_details = [(i, c, mask_nhs_numbers(loc), mask_nhs_numbers(d))
                                 for i, c, loc, d in upload.record_details]
    return {"known": known, "la": code, "uploads": uploads}


def outbox_page(console: Console, operator: Operator, request: Request) -> Context:
    return {"outbox": _or_unavailable(lambda: sources.outbox(console.settings))}


def dead_letters_page(console: Console, operator: Operator, request: Request) -> Context:
    return {"dead_letters": _or_unavailable(lambda: sources.dead_letters(console.settings)),
            "quarantined": _or_unavailable(lambda: sources.quarantined(console.settings))}


def status_page(console: Console, operator: Operator, request: Request) -> Context:
    return {"status": gather(console.settings)}


def _or_unavailable(read: Callable[[], Any]) -> Any:
    """A figure, or why it cannot be read now (the page shows the rest)."""
    try:
        return read()
    except Exception as error:  # a driver's own error (psycopg, Kafka): shown, not raised
        return {"unavailable": f"{type(error).__name__}: {error}"}
