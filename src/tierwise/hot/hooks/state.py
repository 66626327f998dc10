"""Per-session hook state: one JSON file per session id under ``sessions_dir()``.

Hook processes of one session run concurrently (16 subagents can finish at
once), so every read-modify-write holds an exclusive ``flock`` on the session's
file and readers hold a shared one: a reader never sees a half-written file and
no update is lost. The file is rewritten in place (write at offset 0, then cut
to length) rather than through a temp file and ``os.replace``: on ext4 a rename
over an existing file starts writeback of the new one, which cost every hook
process ~2.5 ms (a quarter of a PreToolUse). What that gives up is protection
against a power cut in the middle of the write; the file is a session's
working state, and a file that does not parse reads as a fresh session.

What it keeps: the inline overrides of the session (§3.3), the last non-empty
user prompt, decisions waiting for their PostToolUse (by tool_use_id), agents
launched in the background (by agent id), the transcript offset already read,
and the fingerprint of the last summary shown.

Hot module: standard library only.
"""

from __future__ import annotations

import os

from tierwise.hot import hotjson as json

from tierwise.hot import paths

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


def _parse(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8")) if data else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def read(session_id: object) -> dict[str, Any]:
    try:
        fd = os.open(_path(session_key(session_id)), os.O_RDONLY)
    except OSError:
        return {}
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        return _parse(_read_all(fd))
    except OSError:
        return {}
    finally:
        os.close(fd)  # releases the flock


def update(session_id: object, change: Callable[[dict[str, Any]], object]) -> object:
    """Apply ``change`` to the session's state under the lock; returns its result."""
    directory = paths.sessions_dir()
    os.makedirs(directory, exist_ok=True)
    fd = os.open(_path(session_key(session_id)), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        state = _parse(_read_all(fd))
        result = change(state)
        _prune(state)
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        written = 0
        while written < len(data):
            written += os.pwrite(fd, data[written:], written)
        os.ftruncate(fd, len(data))
        return result
    finally:
        os.close(fd)  # releases the flock


def _prune(state: dict[str, Any]) -> None:
    for name in ("pending", "background"):
        table = state.get(name)
        if isinstance(table, dict) and len(table) > MAX_PENDING:
            for stale in sorted(table, key=lambda k: str(table[k].get("ts", "")))[: len(table) - MAX_PENDING]:
                del table[stale]
