"""This machine's side of the team ledger.

- The ``team`` component of the local SQLite ledger: the ledger's id (a random
  128-bit hex, the ``ledger`` column on the server) and ``team_changes``, a log
  that triggers fill when a usage row is updated or deleted after it may have
  been pushed (a price found later, an import linking a subagent's skill). The
  log keeps the row's *old* values: the next sync retracts them and asserts the
  current ones, so the server's sums follow the local ledger exactly.
- ``team/member.json``: the member URL (mode 0600: it may hold the password).
- ``team/sync.json``: the last sync's outcome (for ``team status``).
- ``team/budget.json``: the team's window totals (``ledger.budget`` reads it).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from typing import Any

from tierwise.hot.errors import StateError, UsageError
from tierwise.hot.ledger import budget, db
from tierwise.hot.ledger.db import sqlite3

TRACKED = (
    "client", "model", "tier", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read",
    "session_id", "project", "skill", "agent_id", "run_id", "ts", "source", "message_id", "request_id",
    "cost_usd", "price_source", "origin", "provisional",
)

_OLD = ", ".join(f"OLD.{c}" for c in TRACKED)
_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TRACKED)

# Component ``team`` of the local ledger; append-only like every component.
_STEP_1 = f"""
CREATE TABLE team_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO team_meta (key, value) VALUES ('ledger_id', lower(hex(randomblob(16))));
CREATE TABLE team_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    usage_id  INTEGER NOT NULL,
    {", ".join(c + " " + ("INTEGER" if c in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "ts") else "REAL" if c == "cost_usd" else "TEXT") for c in TRACKED)}
);
CREATE INDEX team_changes_usage ON team_changes(usage_id);
CREATE TRIGGER team_usage_updated AFTER UPDATE ON usage WHEN {_CHANGED}
BEGIN
    INSERT INTO team_changes (usage_id, {", ".join(TRACKED)}) VALUES (OLD.id, {_OLD});
END;
CREATE TRIGGER team_usage_deleted AFTER DELETE ON usage
BEGIN
    INSERT INTO team_changes (usage_id, {", ".join(TRACKED)}) VALUES (OLD.id, {_OLD});
END;
"""

TEAM_STEPS: list[str] = [_STEP_1]


def prepare_ledger(conn: sqlite3.Connection) -> str:
    """Apply the team component's migrations; the ledger's id."""
    db.apply_migrations(conn, "team", TEAM_STEPS)
    return ledger_id(conn)


def ledger_id(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM team_meta WHERE key = 'ledger_id'").fetchone()
    return str(row[0])


# --- files in the state dir -----------------------------------------------------


def _write_private(path: str, data: dict[str, Any], mode: int = 0o600) -> None:
    """Write JSON whole (temp + rename) with ``mode`` from the first byte on."""
    from tierwise.hot.fileio import atomic_write

    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=mode)


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateError(f"cannot read {os.path.basename(path)} ({exc})", file=path,
                         fix="run `tierwise team join URL` again") from None
    return data if isinstance(data, dict) else None


def save_member(record: dict[str, Any]) -> str:
    path = budget.team_member_path()
    try:
        _write_private(path, record)
    except OSError as exc:
        raise StateError(f"cannot write the team membership ({exc.strerror or exc})", file=path,
                         fix=f"make the state directory writable (or set $TIERWISE_HOME)") from None
    return path


def load_member() -> dict[str, Any]:
    data = _read(budget.team_member_path())
    if not data or not isinstance(data.get("url"), str):
        raise UsageError("this machine has not joined a team",
                         fix="run `tierwise team join URL` with the member URL from `tierwise team add-member`")
    return data


def sync_state() -> dict[str, Any]:
    return _read(sync_state_path()) or {}


def sync_state_path() -> str:
    return os.path.join(budget.team_dir(), "sync.json")


def save_sync_state(data: dict[str, Any]) -> None:
    try:
        _write_private(sync_state_path(), data, 0o644)
    except OSError:
        pass  # status only


def save_team_cache(data: dict[str, Any]) -> None:
    path = budget.team_cache_path()
    try:
        _write_private(path, data, 0o644)
    except OSError as exc:
        raise StateError(f"cannot write the team budget cache ({exc.strerror or exc})", file=path,
                         fix="make the state directory writable") from None


class SyncLock:
    """One sync per state dir at a time (``flock`` on team/sync.lock)."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def acquire(self, wait_s: float) -> bool:
        path = os.path.join(budget.team_dir(), "sync.lock")
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fd = fd
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def waiting(conn: sqlite3.Connection, rows_through: int, changes_through: int) -> dict[str, int]:
    """Local rows and changes not yet on the server (as of the last known marks)."""
    rows = conn.execute("SELECT COUNT(*) FROM usage WHERE id > ?", (rows_through,)).fetchone()[0]
    has_log = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'team_changes'").fetchone()
    changes = 0
    if has_log:
        changes = conn.execute(
            "SELECT COUNT(DISTINCT usage_id) FROM team_changes WHERE seq > ? AND usage_id <= ?",
            (changes_through, rows_through)).fetchone()[0]
    return {"rows": int(rows), "changed_rows": int(changes)}
