"""How long psycopg's pool waits between tries, for the event store's pooled connections.

psycopg_pool waits 1 s, then 2, 4, 8... between checking one dead pooled connection and the
next, and between tries to connect again. After a PostgreSQL restart a pool of five dead
connections kept a command waiting 30 s, and after a long outage the next try to connect
could come minutes after the server was back. A flat, short wait bounds both: the pool
replaces its dead connections within about a second, and connects again within
`FLAT_WAIT_SECONDS` of the server's return. The pool offers no setting for this; its
waits are class attributes of `AttemptWithBackoff`, set here once for the process.
"""

from __future__ import annotations

from psycopg_pool.base import AttemptWithBackoff

FLAT_WAIT_SECONDS = 0.2


def flat_pool_waits() -> None:
    """Every wait of psycopg's pools in this process ~FLAT_WAIT_SECONDS (10% jitter), not
    doubling."""
    AttemptWithBackoff.INITIAL_DELAY = FLAT_WAIT_SECONDS
    AttemptWithBackoff.DELAY_BACKOFF = 1.0
