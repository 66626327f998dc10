"""The session's journal: state changes that waited for the session lock.

When the lock stays busy past a hook's wait (``state.LOCK_WAIT_S``), a change
that must not be lost is written here as operations (``state.apply_op``), one
file per change under ``sessions/<id>.journal/``, through a temp name and a
rename so a reader never sees half of one. The next process that holds the
lock applies them in order and deletes them; readers see them at once.

Imported only when a journal exists or the lock is busy: never on the usual
path of a hook.

Hot module: standard library only.
"""

from __future__ import annotations

import os
import time

from tierwise.hot import hotjson as json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_OPS_FILES = 2000


def load(folder: str, names: list[str], limit: int) -> list[tuple[str, bytes]]:
    """``[(file, content)]`` of the journal files ``names`` in ``folder``, oldest first."""
    from tierwise.hot.fileio import read_bytes

    out = []
    for name in sorted(n for n in names if n.endswith(".json") and not n.startswith("."))[:MAX_OPS_FILES]:
        path = os.path.join(folder, name)
        try:
            out.append((path, read_bytes(path, limit=limit, follow_symlinks=False)))
        except OSError:
            continue
    return out


def write(folder: str, ops: list[dict[str, Any]]) -> None:
    """One more journal file holding ``ops``; OSError when it cannot be written."""
    os.makedirs(folder, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}.json"
    tmp = os.path.join(folder, "." + name)
    data = json.dumps({"ops": ops}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(folder, name))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
