"""The CP-IS application: the use cases on one store.

Queries (queries.py), a local authority's plan commands (plans.py), PDS identity changes
(identity.py), uploads (uploads.py) and operators' looks in the console
(operator_looks.py), each a part of one eventsourcing application on
the records' store (store.py).
"""

from __future__ import annotations

from domain.application.identity import IdentityChanges
from domain.application.operator_looks import OperatorLooks
from domain.application.plans import PlanCommands
from domain.application.queries import Queries
from domain.application.store import APPLICATION_NAME, RecordStore, utc_now
from domain.application.uploads import Uploads

__all__ = ["APPLICATION_NAME", "CpisApplication", "RecordStore", "utc_now"]


class CpisApplication(Queries, PlanCommands, IdentityChanges, Uploads, OperatorLooks):
    """Write side of CP-IS."""

    name = APPLICATION_NAME  # persisted: it names the tables (cpis_events, ...)
