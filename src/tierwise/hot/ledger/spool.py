"""The write spool: records the ledger refused, kept as files until a later open applies them.

A record that cannot be written (locked past the retries, disk full, read-only
file) becomes one JSON line in its own file under ``$TIERWISE_HOME/spool/``;
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
from tierwise.hot.errors import StateError
from tierwise.hot.ledger.db import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_CLAIM_STALE_S = 60.0


def write(kind: str, payload: Any, cause: BaseException) -> str:
    """Keep a record the ledger refused as one spool file; returns its path."""
    from tierwise.hot.fileio import atomic_write

    folder = paths.spool_dir()
    line = json.dumps({"kind": kind, "payload": payload, "error": str(cause)}, sort_keys=True, default=str) + "\n"
    name = f"{os.getpid()}-{time.time_ns()}.jsonl"
    final = os.path.join(folder, name)
    try:
        # a replayer sees the whole line or no file; a record's name is never reused; fsync of
        # the data and of the directory: after a crash the record is still there
        atomic_write(final, line, exclusive=True, fsync_dir=True)
    except OSError as exc:
        paths.log_error(f"ledger write failed ({cause}) and the spool is unwritable ({exc}): {line[:500]}")
        raise StateError(
            f"cannot record to the ledger ({cause}) nor to the spool ({exc.strerror or exc})",
            file=final,
            fix="free disk space and make the state directory writable "
            f"(or set ${paths.ENV_HOME} to a writable directory)",
        ) from exc
    paths.log_error(f"ledger write failed ({cause}); spooled to {final}")
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
    """
    applied = 0
    for path in files():
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
            with open(claimed, encoding="utf-8") as fh:
                entries = [json.loads(line) for line in fh if line.strip()]
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
