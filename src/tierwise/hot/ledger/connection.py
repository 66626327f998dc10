"""Open the ledger for use: :func:`db.connect` (create, migrate) and then replay
the write spool, so records a failed write left behind land once the ledger is
writable again. Every reader and writer outside ``record`` opens it here.

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot.ledger import db, record
from tierwise.hot.ledger.db import sqlite3


def connect(
    path: str | None = None,
    *,
    migrate: bool = True,
    replay_spool: bool = True,
    busy_timeout_ms: int | None = None,
) -> sqlite3.Connection:
    """The ledger, migrated and with the spool replayed (``StateError`` as :func:`db.connect`)."""
    conn = db.connect(path, migrate=migrate, busy_timeout_ms=busy_timeout_ms)
    if replay_spool:
        try:
            record.replay_spool(conn)
        except sqlite3.Error:
            pass  # spool stays on disk; the next open tries again
    return conn
