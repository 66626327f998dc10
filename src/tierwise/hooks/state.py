"""Per-session hook state: one JSON file per session id under ``sessions_dir()``.

Hook processes of one session run concurrently (16 subagents can finish at
once), so every read-modify-write holds an exclusive ``flock`` on the session's
lock file and the new state is written to a temp file and ``os.replace``d in:
a reader never sees a half-written file and no update is lost.

What it keeps: the inline overrides of the session (§3.3), the last non-empty
user prompt, decisions waiting for their PostToolUse (by tool_use_id), agents
launched in the background (by agent id), the transcript offset already read,
and the fingerprint of the last summary shown.

Hot module: standard library only.
"""

from __future__ import annotations

import os

from tierwise import hotjson as json

from tierwise import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

_ID_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ID_REST = _ID_FIRST | frozenset("_.-")
MAX_PENDING = 512


def session_key(session_id: object) -> str:
    """A file-name-safe key for a session id (hashed when it is not one)."""
    if (
        isinstance(session_id, str)
        and 0 < len(session_id) <= 100
        and session_id[0] in _ID_FIRST
        and _ID_REST.issuperset(session_id)
        and ".." not in session_id
    ):
        return session_id
    text = session_id if isinstance(session_id, str) else repr(session_id)
    return "h-" + paths.short_digest(text)


def _path(key: str) -> str:
    return os.path.join(paths.sessions_dir(), key + ".json")


def read(session_id: object) -> dict[str, Any]:
    try:
        with open(_path(session_key(session_id)), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update(session_id: object, change: Callable[[dict[str, Any]], object]) -> object:
    """Apply ``change`` to the session's state under the lock; returns its result."""
    key = session_key(session_id)
    directory = paths.sessions_dir()
    os.makedirs(directory, exist_ok=True)
    lock_fd = os.open(os.path.join(directory, key + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        state = read(key)
        result = change(state)
        _prune(state)
        tmp = os.path.join(directory, f".{key}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(state, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, _path(key))
        return result
    finally:
        os.close(lock_fd)  # releases the flock


def _prune(state: dict[str, Any]) -> None:
    for name in ("pending", "background"):
        table = state.get(name)
        if isinstance(table, dict) and len(table) > MAX_PENDING:
            for stale in sorted(table, key=lambda k: str(table[k].get("ts", "")))[: len(table) - MAX_PENDING]:
                del table[stale]
