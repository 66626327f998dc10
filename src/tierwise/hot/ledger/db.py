"""Open the SQLite ledger, apply migrations, and write with retries.

Hot module: imported by hook processes. Standard library only.

- WAL journal, ``busy_timeout`` and ``BEGIN IMMEDIATE`` for every write, so
  many hook processes can record at once; a write that still meets a lock is
  retried with back-off (:func:`write`).
- Migrations are append-only lists of steps per *component*
  (:func:`apply_migrations`), recorded in ``schema_versions(component,
  version)``. The ledger's own tables are component ``ledger``
  (``ledger/migrations.py``); other parts (evidence) add their own component to
  the same file.
- :func:`connect` only opens; ``connection.connect`` also replays the spool
  (records a failed write left behind, ``ledger/spool.py``), so this module
  imports nothing of the ledger's writer.
- In a hook process every wait is bounded by the hook's deadline
  (``tierwise.hot.deadline``): the busy timeout is what the deadline leaves, the
  retries stop when it passes and the spool replay takes a slice of it. A
  write that cannot finish in time raises and its record is spooled.
- ``trouble.ledger_error`` names what a SQLite error means for the user: a
  corrupt file (:class:`~tierwise.hot.errors.LedgerCorruptError`, with the fix), a
  lock held past the wait, a full disk, a read-only file.
"""

from __future__ import annotations

import os
import sys
import time

from tierwise.hot import deadline, paths
from tierwise.hot.errors import StateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3 as sqlite3  # re-exported for the other hot ledger modules
    from collections.abc import Callable, Sequence
    from types import ModuleType
    from typing import Any, TypeVar

    T = TypeVar("T")
    Step = str | Callable[[sqlite3.Connection], None]


def _import_sqlite() -> ModuleType:
    """The C module ``_sqlite3``, loaded without ``functools``.

    The ``sqlite3`` package around it only adds datetime adapters (unused
    here). The C module itself imports ``functools`` for one thing,
    ``lru_cache``, to build each connection's statement cache, and ``functools``
    drags in ``collections``: 3.5 ms of a hook process's ~25. When nothing has
    imported ``functools`` yet, the C module is handed a stand-in whose
    ``lru_cache`` is the C ``_functools._lru_cache_wrapper`` that
    ``functools.lru_cache`` itself returns; the stand-in leaves ``sys.modules``
    at once, so any later ``import functools`` gets the real module.
    """
    if "functools" in sys.modules:
        import _sqlite3

        return _sqlite3
    import _functools  # type: ignore[import-not-found]  # no stub: the C half of functools

    def lru_cache(maxsize: Any = 128, typed: bool = False) -> Any:
        if callable(maxsize):
            return _functools._lru_cache_wrapper(maxsize, 128, typed, tuple)
        return lambda function: _functools._lru_cache_wrapper(function, maxsize, typed, tuple)

    stand_in = type(sys)("functools")
    stand_in.lru_cache = lru_cache  # type: ignore[attr-defined]
    sys.modules["functools"] = stand_in
    try:
        import _sqlite3
    except Exception:  # noqa: BLE001 - a CPython that wants more of functools: load it the usual way
        sys.modules.pop("functools", None)
        sys.modules.pop("_sqlite3", None)
        import _sqlite3
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]
    return _sqlite3


if not TYPE_CHECKING:
    try:
        sqlite3 = _import_sqlite()
    except ImportError:  # pragma: no cover - a Python built without the split module
        import sqlite3

BUSY_TIMEOUT_MS = 5000
WAL_TRIM_BYTES = 1 << 20
WRITE_ATTEMPTS = 8
# Under a hook's deadline the spool replay takes at most this much of it per process.
REPLAY_SLICE_S = 0.1
# Under a hook's deadline a read (the budget measurement) waits at most this long for a held ledger.
READ_WAIT_S = 0.5
_RETRYABLE = ("database is locked", "database is busy", "database table is locked")


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and any(s in str(exc).lower() for s in _RETRYABLE)


def busy_ms(cap_s: float | None = None) -> int:
    """The busy timeout now: BUSY_TIMEOUT_MS (or ``cap_s`` when smaller), less
    when a hook's deadline is nearer."""
    seconds = BUSY_TIMEOUT_MS / 1000.0 if cap_s is None else min(cap_s, BUSY_TIMEOUT_MS / 1000.0)
    return int(deadline.wait_for(seconds) * 1000)


def deadline_active() -> bool:
    return deadline.active()


# id(connection) -> when its busy timeout was last cut to the deadline (monotonic s)
_BUSY_CUT: dict[int, float] = {}
BUSY_CUT_EVERY_S = 0.05


def refresh_busy(conn: sqlite3.Connection) -> None:
    """Cut the connection's busy timeout to what the hook's deadline leaves
    (a no-op outside hooks). At most every BUSY_CUT_EVERY_S: a PRAGMA costs a
    statement prepare, and a wait may overshoot the deadline by that much only."""
    if not deadline.active():
        return
    now = time.monotonic()
    last = _BUSY_CUT.get(id(conn))
    if last is not None and now - last < BUSY_CUT_EVERY_S:
        return
    conn.execute(f"PRAGMA busy_timeout = {busy_ms()}")
    _BUSY_CUT[id(conn)] = now


def set_busy(conn: sqlite3.Connection, ms: int) -> None:
    """A busy timeout of ``ms`` for the next statements (a short wait for a
    read); the next :func:`refresh_busy` restores the deadline's."""
    conn.execute(f"PRAGMA busy_timeout = {int(ms)}")
    _BUSY_CUT.pop(id(conn), None)


def connect(
    path: str | None = None,
    *,
    migrate: bool = True,
    busy_timeout_ms: int | None = None,
) -> sqlite3.Connection:
    """Open the ledger (creating the state dir and tables as needed).

    Raises :class:`StateError` (exit code 6) when the state dir or the database
    cannot be created, read or written, naming the path and a fix.
    """
    db_path = path or paths.ledger_path()
    cut = busy_timeout_ms is None  # the deadline's own: no refresh needed for a moment
    if busy_timeout_ms is None:
        busy_timeout_ms = busy_ms()
    folder = os.path.dirname(db_path) or "."
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise StateError(
            f"cannot create the state directory ({exc.strerror or exc})",
            file=folder,
            fix=f"make it writable (chmod u+rwx {folder}) or point ${paths.ENV_HOME} at a writable directory",
        ) from exc
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        raise StateError(
            "the state directory is not readable and writable by this user",
            file=folder,
            fix=f"chmod u+rwx {folder}, or set ${paths.ENV_HOME} to a writable directory",
        )
    try:
        conn = sqlite3.connect(db_path, timeout=busy_timeout_ms / 1000.0, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if cut and deadline.active():
            _BUSY_CUT[id(conn)] = time.monotonic()
        # the busy timeout given stays (a reader's is short): no refresh between attempts
        mode = _retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
        if mode is None or str(mode[0]).lower() != "wal":
            # WAL may be refused (e.g. some network file systems); rollback journal still works.
            pass
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        from tierwise.hot.ledger.trouble import ledger_error

        err = ledger_error(exc, db_path)
        if type(err) is StateError and not is_lock_error(exc):
            err = StateError(f"cannot open the ledger ({exc})", file=db_path, fix=err.fix)
        raise err from exc
    if migrate:
        from tierwise.hot.ledger.migrations import LEDGER_STEPS

        try:
            apply_migrations(conn, "ledger", LEDGER_STEPS)
        except sqlite3.DatabaseError as exc:
            conn.close()
            from tierwise.hot.ledger.trouble import ledger_error

            err = ledger_error(exc, db_path)
            if type(err) is StateError and not is_lock_error(exc):
                err = StateError(f"cannot prepare the ledger tables ({exc})", file=db_path, fix=err.fix)
            raise err from exc
    return conn


def _retry(fn: Callable[[], T], attempts: int | None = None, conn: sqlite3.Connection | None = None) -> T:
    """``fn()``, retried with back-off while the ledger is locked; under a hook's
    deadline each attempt waits only what is left and no retry starts after it."""
    attempts = WRITE_ATTEMPTS if attempts is None else attempts
    delay = 0.01
    for attempt in range(attempts):
        if conn is not None:
            refresh_busy(conn)
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_lock_error(exc) or attempt == attempts - 1:
                raise
            pause = deadline.wait_for(delay)
            if pause < delay:  # the deadline is nearer than the next attempt
                raise
            time.sleep(pause)
            delay = min(delay * 2, 0.5)
    raise AssertionError("unreachable")  # pragma: no cover


def write(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], attempts: int | None = None) -> T:
    """Run ``fn(conn)`` in one ``BEGIN IMMEDIATE`` transaction, retrying on a lock.

    Each attempt already waits up to ``busy_timeout`` for the lock; the retries
    cover SQLITE_BUSY returned without waiting (e.g. a WAL snapshot upgrade).
    Any other error rolls back and propagates.
    """

    def attempt() -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
            return result
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise

    return _retry(attempt, attempts, conn)


def trim_wal(conn: sqlite3.Connection, path: str | None = None) -> bool:
    """Checkpoint the WAL into the ledger and truncate it once it is over
    WAL_TRIM_BYTES; True when it was truncated.

    Hook processes end without closing their connection: closing the last
    connection checkpoints (two fsyncs, ~3 ms of every hook). A WAL left
    behind that way only grows, though: the next process's recovery cannot
    know its frames were already copied, so it appends and copies them all
    again. Truncating it now and then (about every ten recorded subagent
    runs) keeps both the recovery and the checkpoint small. A busy ledger is
    left for the next writer.
    """
    try:
        size = os.stat((path or paths.ledger_path()) + "-wal").st_size
    except OSError:
        return False
    if size <= WAL_TRIM_BYTES:
        return False
    set_busy(conn, min(100, busy_ms()))
    try:
        row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:
        return False
    finally:
        set_busy(conn, busy_ms())
    return bool(row) and row[0] == 0


def _split_statements(script: str) -> list[str]:
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    try:
        row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise
    return int(row[0]) if row else 0


def apply_migrations(conn: sqlite3.Connection, component: str, steps: Sequence[Step]) -> int:
    """Bring ``component``'s tables to ``len(steps)``; returns the version now.

    A step is SQL (one or more statements) or a callable taking the
    connection. Steps run in order, each in its own ``BEGIN IMMEDIATE``
    transaction together with the version bump, so a crash leaves a
    consistent version. Released steps are never edited: append new ones.
    A database newer than this code (more steps applied) is left alone.
    """
    target = len(steps)
    if schema_version(conn, component) >= target:
        return schema_version(conn, component)

    def ensure_table(c: sqlite3.Connection) -> None:
        c.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions ("
            "component TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TEXT NOT NULL)"
        )

    write(conn, ensure_table)
    while True:

        def one_step(c: sqlite3.Connection) -> bool:
            current = schema_version(c, component)
            if current >= target:
                return False
            step = steps[current]
            if callable(step):
                step(c)
            else:
                for stmt in _split_statements(step):
                    c.execute(stmt)
            c.execute(
                "INSERT INTO schema_versions(component, version, applied_at) VALUES (?, ?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at",
                (component, current + 1, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
            )
            return True

        if not write(conn, one_step):
            break
    return schema_version(conn, component)
