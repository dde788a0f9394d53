"""`cpis audit ...`: the operator audit (domain/audit.py) as tables or JSON lines.

Every report follows NHS-number merges both ways, says which clock it goes by, prints
times in UK time (Europe/London, labelled), and refuses bad or empty input with a message
and a non-zero exit. It reads the event store only: a store that is not there is an error,
never created.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

from domain.application import audit
from domain.application import audit_reads as reads_report
from domain.application.answers import ShownPlan
from domain.model.access import Access
from domain.model.errors import DomainError
from domain.model.nhs_number import NhsNumber
from streams.bootstrap import build_application
from streams.cli.commands import STORE, Commands, command, json_flag
from streams.cli.output import UK, json_lines, plural, say, table, uk_time
from streams.settings import Settings

TIMES = "times are UK time (Europe/London)"


def when(text: str) -> datetime:
    """An ISO 8601 moment; without a zone it is UK time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-01T12:00, UK time, or "
            "2026-11-01T12:00:00+00:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UK)


def nhs(text: str) -> NhsNumber:
    try:
        return NhsNumber.parse(text)
    except DomainError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _complain(error: DomainError) -> int:
    print(f"cpis: {error}")
    return 1


def audit_history(settings: Settings, args: argparse.Namespace) -> int:
    app = build_application(settings, read_only=True)
    try:
        entries = audit.full_history(app, args.nhs_number)
    except audit.AuditError as error:
        return _complain(error)
    finally:
        app.close()
    if args.json:
        json_lines(entries)
        return 0
    numbers = sorted({e.nhs_number for e in entries} - {args.nhs_number.value})
    say(f"Every event of NHS number {args.nhs_number.spaced()}"
        + (f" and of {plural(len(numbers), 'number')} merged with it ({', '.join(numbers)})"
           if numbers else "")
        + f", in the order CP-IS stored them; {TIMES}. Under each: what it recorded, and "
        "where it came from.")
    table(["stored at (UK)", "NHS number", "v", "event", "access id"],
          [(e.recorded_at, e.nhs_number, e.version, e.event, e.access_id) for e in entries],
          notes=[[e.summary, *([f"from {_source(e)}"] if e.channel != "-" else [])]
                 for e in entries])
    return 0


def _source(entry: audit.AuditEntry) -> str:
    parts = [entry.channel]
    if entry.message_id:
        parts.append(f"msg {entry.message_id}")
    if entry.file_sequence is not None:
        parts.append(f"file #{entry.file_sequence}")
    if entry.asid:
        parts.append(f"ASID {entry.asid}")
    return " ".join(parts)


def audit_at(settings: Settings, args: argparse.Namespace) -> int:
    app = build_application(settings, read_only=True)
    try:
        held = audit.record_at(app, args.nhs_number, args.at)
    except audit.AuditError as error:
        return _complain(error)
    finally:
        app.close()
    if held is None:
        print(f"cpis: CP-IS held no record for NHS number {args.nhs_number} at "
              f"{uk_time(args.at)} UK time")
        return 1
    if args.json:
        json_lines([held])
        return 0
    say(f"NHS number {args.nhs_number.spaced()} as CP-IS held it at {uk_time(args.at)} "
        f"(by when events were stored; {TIMES}).")
    while held is not None:
        _print_held(held)
        held = held.followed
    return 0


def _print_held(held: audit.PointInTime) -> None:
    merged = f"; merged in: {', '.join(held.merged_in)}" if held.merged_in else ""
    print(f"\nNHS number {held.nhs_number}: version {held.version}, {held.status}{merged}")
    _print_plans(held.plans)
    print()
    say(f"Access history a query was shown then (repeat views within 24 hours shown once, "
        f"newest 25): {len(held.clinicians_view)} shown of "
        f"{plural(held.accesses_recorded, 'access', 'accesses')} recorded; `cpis audit "
        "history` lists every one.")
    _print_accesses(held.clinicians_view)
    for unreadable in held.unreadable_after:
        print(f"cpis: event {unreadable} cannot be read; stored after version "
              f"{held.version}, it may belong to this moment")


def _print_plans(plans: Sequence[ShownPlan]) -> None:
    print(f"{plural(len(plans), 'current plan')} (plan dates as the local authority sent "
          "them, UK time):")
    table(["plan", "LA", "LA name", "office hours", "emergency duty", "start", "end"],
          [(p.plan_type.value, p.local_authority.ods_code, p.local_authority.name,
            p.local_authority.office_hours_phone, p.local_authority.emergency_duty_phone,
            uk_time(p.start, seconds=False), uk_time(p.end, seconds=False)) for p in plans],
          wrap=2)


def _print_accesses(accesses: Sequence[Access]) -> None:
    table(["accessed at (UK)", "access id", "organisation"],
          [(a.accessed_at, a.access_id, a.author.organisation_ods) for a in accesses],
          notes=[[f"by {a.author.display_name}"] for a in accesses])


def audit_query(settings: Settings, args: argparse.Namespace) -> int:
    app = build_application(settings, read_only=True)
    try:
        given = audit.query_given(app, args.nhs_number, args.access_id)
    except audit.AuditError as error:
        return _complain(error)
    finally:
        app.close()
    if given is None:
        print(f"cpis: no query {args.access_id} is recorded for NHS number "
              f"{args.nhs_number} or any number merged with it")
        return 1
    if args.json:
        json_lines([given])
        return 0
    say(f"Query {given.access_id} about NHS number {given.nhs_number}, asked at "
        f"{uk_time(given.asked_at)} by the care setting's clock and stored at "
        f"{uk_time(given.recorded_at)} ({TIMES}), by {given.by} of {given.organisation}, "
        f"HL7 message {given.message_id or '-'}: {given.outcome}.")
    if given.answer is not None:
        print("\nIt was answered:")
        _print_plans(given.answer.plans)
        print(f"\n{plural(len(given.answer.history), 'access', 'accesses')} in the history "
              "shown:")
        _print_accesses(given.answer.history)
    return 0


def audit_accesses(settings: Settings, args: argparse.Namespace) -> int:
    app = build_application(settings, read_only=True)
    try:
        report = reads_report.reads_by_organisation(app, args.start, args.end, args.org,
                                             audit.Clock(args.clock))
    except audit.AuditError as error:
        print(f"cpis: {error}")
        return 2
    finally:
        app.close()
    if args.json:
        json_lines(report.rows)
    else:
        clock = ("when the care setting asked (its effectiveTime)" if args.clock == "effective"
                 else "when CP-IS stored each read")
        say(f"Reads from {uk_time(args.start)} (included) to {uk_time(args.end)} (not "
            f"included), by {clock}; {TIMES}"
            + (f"; organisation {args.org.upper()} only" if args.org else "") + ".")
        table(["organisation", "name", "accesses", "silent reads", "no records", "refused",
               "NHS numbers"],
              [(r.ods_code, r.name, r.accesses, r.silent_reads, r.no_records, r.refused,
                r.nhs_numbers) for r in report.rows], wrap=1)
        if not report.rows:
            print("(no reads in that period)")
    for position in report.unreadable:
        print(f"cpis: the event at {position} cannot be read and is not counted")
    return 1 if report.unreadable else 0


def add_commands(commands: Commands) -> None:
    aud = command(commands, "audit", "the operator audit trail (reads the store; creates "
                  "nothing)", "Reports over the event store for national operators. Times "
                  "without a zone are UK time; reports print UK time, labelled.", [STORE])
    reports = aud.add_subparsers(dest="audit_command", required=True, metavar="REPORT")
    history = command(
        reports, "history", "every event of an NHS number and the numbers merged with it",
        "Every stored event of the number and of every number merged into it "
        "or that it was merged into: when stored, what, its access id, and its source "
        "(channel, message id, LA file, ASID).", [STORE], audit_history)
    history.add_argument("nhs_number", type=nhs, help="NHS number (spaces allowed)")
    at = command(
        reports, "at", "the record as CP-IS held it at a moment (by when events were stored)",
        "Plans, status, merges and the access history a query was shown, as "
        "CP-IS held them at the moment given (the recorded clock).", [STORE], audit_at)
    at.add_argument("nhs_number", type=nhs, help="NHS number (spaces allowed)")
    at.add_argument("at", type=when, help="ISO 8601; without a zone, UK time")
    query = command(
        reports, "query", "what one query was answered, rebuilt from the events",
        "Finds the query by its access id (the HL7 event id, any letter case) "
        "on the number or any number merged with it.", [STORE], audit_query)
    query.add_argument("nhs_number", type=nhs, help="the NHS number it was about (or one "
                       "merged with it)")
    query.add_argument("access_id", help="the query's event id (shown by `audit history`)")
    reads = command(
        reports, "accesses", "reads by organisation over a period",
        "Accesses, silent reads, No Records Found answers and refusals per "
        "organisation, in [--from, --to).", [STORE], audit_accesses)
    reads.add_argument("--from", dest="start", type=when, required=True,
                       help="start, included (ISO 8601; without a zone, UK time)")
    reads.add_argument("--to", dest="end", type=when, required=True,
                       help="end, not included")
    reads.add_argument("--org", default=None, help="only this organisation (ODS code, any "
                       "letter case)")
    reads.add_argument("--clock", choices=[c.value for c in audit.Clock],
                       default=audit.Clock.EFFECTIVE.value,
                       help="effective: when the care setting asked (default); recorded: "
                       "when CP-IS stored it")
    for sub in (history, at, query, reads):
        json_flag(sub)
