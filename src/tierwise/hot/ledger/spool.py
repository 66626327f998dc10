"""The write spool: records the ledger refused, kept as files until a later open applies them.

A record that cannot be written (locked past the retries or a hook's deadline,
disk full, read-only or corrupt ledger) becomes one JSON line in a file of its
own under ``$TIERWISE_HOME/spool/`` (a hook's records share one file, a line each);
:func:`replay` applies them with the function the caller passes (the ledger
writer's, ``record._apply``) and deletes each file after its commit. This
module knows files, not tables, so ``db`` and ``record`` both sit above it.

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os
import time

from tierwise.hot import paths
from tierwise.hot.errors import SpoolError, StateError
from tierwise.hot.ledger.db import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_CLAIM_STALE_S = 60.0
MAX_SPOOL_FILE_BYTES = 256 * 1024 * 1024


def write(kind: str, payload: Any, cause: BaseException) -> str:
    """Keep a record the ledger refused as one spool file; returns its path."""
    return write_entries([{"kind": kind, "payload": payload}], cause)


def write_entries(entries: list[dict[str, Any]], cause: BaseException) -> str:
    """Keep records the ledger refused (``{"kind", "payload"}`` each) as one spool
    file, one line per record; returns its path. Raises :class:`SpoolError`
    (how many records were lost, the OS error, the fix) when even that fails."""
    from tierwise.hot.fileio import atomic_write

    folder = paths.spool_dir()
    reason = cause.message if isinstance(cause, StateError) else str(cause)
    text = "".join(
        json.dumps({**entry, "error": str(cause)}, sort_keys=True, default=str) + "\n" for entry in entries
    )
    name = f"{os.getpid()}-{time.time_ns()}.jsonl"
    final = os.path.join(folder, name)
    try:
        # a replayer sees the whole file or no file; a record's name is never reused; fsync of
        # the data and of the directory: after a crash the record is still there
        atomic_write(final, text, exclusive=True, fsync_dir=True)
    except OSError as exc:
        paths.log_error(f"ledger write failed ({reason}) and the spool is unwritable ({exc}): {text[:500]}")
        error = SpoolError(
            f"cannot record to the ledger ({reason}) nor to the spool ({exc.strerror or exc}): "
            f"{len(entries)} record(s) lost",
            file=final,
            fix="free disk space and make the state directory writable "
            f"(or set ${paths.ENV_HOME} to a writable directory)",
        )
        error.lost, error.os_error = len(entries), exc
        raise error from exc
    paths.log_error(f"ledger write failed ({reason}); spooled to {final}")
    return final


def files() -> list[str]:
    folder = paths.spool_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names if (n.endswith(".jsonl") or ".claimed-" in n) and not n.endswith(".bad"))


def replay(conn: sqlite3.Connection, apply: Callable[[sqlite3.Connection, str, Any], int]) -> int:
    """Apply spooled records; delete each spool file after its commit.

    A file is claimed by renaming it first, so two processes never replay the
    same file; a claim left by a crashed process is retaken after a minute.
    Under a hook's deadline the replay takes at most ``REPLAY_SLICE_S`` of it
    (``db.REPLAY_SLICE_S``); the next process goes on with the rest.
    """
    paths_ = files()
    if not paths_:
        return 0  # the usual case: nothing to import, nothing to do
    from tierwise.hot import deadline
    from tierwise.hot.fileio import read_bytes
    from tierwise.hot.ledger.db import REPLAY_SLICE_S

    applied = 0
    until = time.monotonic() + deadline.wait_for(REPLAY_SLICE_S) if deadline.active() else None
    for path in paths_:
        if until is not None and time.monotonic() >= until:
            break  # a hook's slice is spent
        base = os.path.basename(path)
        if ".claimed-" in base:
            try:
                if time.time() - os.stat(path).st_mtime < _CLAIM_STALE_S:
                    continue
            except OSError:
                continue
        claimed = os.path.join(os.path.dirname(path), base.split(".claimed-")[0] + f".claimed-{os.getpid()}")
        try:
            os.rename(path, claimed)
            os.utime(claimed)
        except OSError:
            continue  # another process took it
        try:
            text = read_bytes(claimed, limit=MAX_SPOOL_FILE_BYTES).decode("utf-8")  # never a FIFO
            entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        except (OSError, ValueError) as exc:
            paths.log_error(f"unreadable spool file kept for inspection: {claimed} ({exc})")
            bad = claimed + ".bad"
            try:
                os.rename(claimed, bad)
            except OSError:
                pass
            continue
        try:
            for entry in entries:
                applied += apply(conn, entry["kind"], entry["payload"])
        except (sqlite3.InterfaceError, sqlite3.ProgrammingError, KeyError, ValueError, TypeError,
                AttributeError) as exc:
            paths.log_error(f"malformed spool file kept for inspection: {claimed}.bad ({exc})")
            try:
                os.rename(claimed, claimed + ".bad")
            except OSError:
                pass
            continue
        except sqlite3.Error:
            try:
                os.rename(claimed, path)  # give it back for the next open
            except OSError:
                pass
            raise
        try:
            os.unlink(claimed)
        except OSError:
            pass
    return applied
