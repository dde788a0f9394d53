"""Upload ingest: records per second from one LA File to events stored in PostgreSQL.

Baseline, same run: the very same stored events inserted with the application's recorder
directly (no parsing, no checks, no aggregates) into a fresh schema. Three rounds of each,
in one process (as a long-running `cpis mesh`, whose first File pays for memory the next
ones reuse: the first parse of a 10,000-record File takes ~58 ms, later ones ~35 ms); medians
reported, every round in the JSON. The details also give eventsourcing's own insert function
(the recorder's parent) for comparison.
"""

from __future__ import annotations

import time
from statistics import median

from eventsourcing.persistence import StoredEvent

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.common import Result, fresh_schemas, timed
from domain.application.app import CpisApplication
from domain.model.uploads import LaUpload
from streams.bootstrap import build_application
from streams.gc_tuning import fewer_collections
from streams.settings import Settings

TARGET = 20_000.0
TEMPLATE_ROOT = "2.16.840.1.113883.2.1.3.2.4.18.16"
RECORD = f"""  <record><CP-ISRecord>
    <pertinentInformation>
      <npfitlc:contentId root="{TEMPLATE_ROOT}"
          extension="COCT_TP146101GB01#CPPInformation"/>
      <COCT_TP146101GB01.CPPInformation>
        <component><cPPStartDate><value value="202501060900"/></cPPStartDate></component>
      </COCT_TP146101GB01.CPPInformation>
    </pertinentInformation>
    <subject>
      <npfitlc:contentId root="{TEMPLATE_ROOT}" extension="COCT_TP145101GB01#Child"/>
      <COCT_TP145101GB01.Child>
        <id root="2.16.840.1.113883.2.1.4.1" extension="{{nhs}}"/>
        <childPerson><birthTime value="20150101"/>
          <name><given>Bench</given><family>Child{{i}}</family></name></childPerson>
      </COCT_TP145101GB01.Child>
    </subject>
  </CP-ISRecord></record>
"""


def synthetic_file(records: int, sequence: int = 1, first: int = 0) -> bytes:
    """An X26 File of `records` CPP records for verified synthetic NHS numbers, from the
    `first`-th candidate number of the synthetic PDS's verified range on."""
    from domain.model.nhs_number import check_digit

    rows: list[str] = []
    base = 999010000 + first
    while len(rows) < records:
        digit = check_digit(str(base))
        if digit is not None:
            rows.append(RECORD.format(nhs=f"{base}{digit}", i=len(rows)))
        base += 1
    head = (f'<File xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation">'
            f'<creationTime value="20261101090000"/><id extension="{sequence}"/>'
            f'<transmissionQuantity value="{records}"/><communicationFunctionSnd><organisation>'
            '<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="X26"/><name>Northtown</name>'
            '<telecom value="tel:01632960001" use="WP"/><telecom value="tel:01632960999" '
            'use="EC"/></organisation></communicationFunctionSnd>')
    return (head + "".join(rows) + "</File>").encode()


ROUNDS = 3  # each on fresh schemas in this one process, as a long-running `cpis mesh`


def run(settings: Settings, records: int = 10_000) -> Result:
    data = synthetic_file(records)
    pds = SyntheticPds.load()
    rounds = [one_upload(settings, data, pds, records) for _ in range(ROUNDS)]
    seconds = median(seconds for seconds, _ in rounds)
    events = rounds[0][1]
    baselines = [raw_insert(settings, events) for _ in range(ROUNDS)]
    library_seconds = raw_insert(settings, events, library=True)
    rate, baseline_rate = records / seconds, records / median(baselines)
    return Result(f"upload ingest ({records:,}-record File -> PostgreSQL events)", "records/s",
                  rate, baseline_rate, "raw insert of the same events by the recorder",
                  f">= {TARGET:,.0f} records/s", rate >= TARGET,
                  {"records": records, "events": len(events), "seconds": seconds,
                   "rounds_records_per_s": [records / s for s, _ in rounds],
                   "baseline_rounds_records_per_s": [records / s for s in baselines],
                   "library_insert_records_per_s": records / library_seconds})


def one_upload(settings: Settings, data: bytes, pds: SyntheticPds, records: int
               ) -> tuple[float, list[StoredEvent]]:
    """Seconds to upload the File into fresh schemas, and the events it stored."""
    with fresh_schemas(settings) as bench:
        app = build_application(bench)
        try:
            with fewer_collections():  # as `cpis mesh` polls
                seconds, _ = upload_seconds(app, data, pds)
            stored = app.recorder.select_notifications(start=1, limit=3 * records + 10)
        finally:
            app.close()
    return seconds, [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                     for n in stored]


def upload_seconds(app: CpisApplication, data: bytes, pds: SyntheticPds
                   ) -> tuple[float, LaUpload]:
    """Seconds from the File's bytes to its events stored (process_upload returned). The
    parsed File is returned, to be freed after the clock stops, as the MESH receiver frees it
    after sending the FileResponse (freeing a 10,000-record lxml tree takes about 11 ms)."""
    started = time.perf_counter()
    upload = parse_la_file(data)
    app.process_upload(upload, "BENCH-1", pds)
    return time.perf_counter() - started, upload


def raw_insert(settings: Settings, events: list[StoredEvent], library: bool = False) -> float:
    """Seconds to insert `events` in one save into a fresh schema: with the project's
    recorder (COPY under the table lock), or with eventsourcing's own insert function."""
    with fresh_schemas(settings) as raw:
        env = raw.event_store_env()
        if library:
            env.pop("APPLICATION_RECORDER_TOPIC")
        app = CpisApplication(env=env)
        try:
            return timed(lambda: app.recorder.insert_events(events))
        finally:
            app.close()
