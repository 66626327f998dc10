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

The lock is waited for only as long as the hook's deadline allows
(``tierwise.deadline``); a process holding it for longer (a stuck hook,
another tool) never makes a hook outlive the client's timeout:

- :func:`update` raises :class:`Busy`; callers whose work can wait for the
  next hook (a transcript cursor, the summary fingerprint, a cached budget
  state) skip it;
- :func:`apply` writes changes that must not be lost (a decision waiting for
  its PostToolUse, inline overrides) as *operations* to the session's journal
  (``<id>.journal/``, one file each, written through a rename): the next
  process that holds the lock applies them in order, and :func:`read` shows
  them at once;
- :func:`take` pops a value: without the lock it reads the file unlocked,
  returns the value and journals the removal.

What it keeps: the inline overrides of the session (§3.3), the last non-empty
user prompt, decisions waiting for their PostToolUse (by tool_use_id), agents
launched in the background (by agent id), the transcript offset already read,
and the fingerprint of the last summary shown.

Only regular files are opened (never a FIFO or a device; no symlinks), and a
state file over MAX_STATE_BYTES reads as a fresh session.

Hot module: standard library only.
"""

from __future__ import annotations

import os
import time

from tierwise.hot import deadline, paths
from tierwise.hot import hotjson as json

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
MAX_STATE_BYTES = 16 * 1024 * 1024
JOURNAL_SUFFIX = ".journal"
# Under a hook's deadline one wait for the lock lasts at most this long: a hook
# holds it for milliseconds, so a longer hold is a stuck or foreign process, and
# the hook goes on without it (journal, unlocked read) with its time intact.
LOCK_WAIT_S = 0.3


class Busy(Exception):
    """The session's lock was not free within the hook's deadline."""


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


def _journal_dir(key: str) -> str:
    return os.path.join(paths.sessions_dir(), key + JOURNAL_SUFFIX)


def _parse(data: bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8")) if data else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _read_all(fd: int) -> bytes | None:
    """The whole file from offset 0; None when it is over MAX_STATE_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.pread(fd, 1 << 16, size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_STATE_BYTES:
            return None


# sessions whose lock this event already waited for in vain: it does not wait again
_BUSY: set[str] = set()


def new_event() -> None:
    """A new event is handled (an in-process caller may handle many): wait again."""
    _BUSY.clear()


def _lock(fd: int, kind: int, key: str) -> bool:
    """Take the flock, waiting no longer than the deadline allows (and not at
    all when this process already found this session's lock held too long)."""
    if fcntl is None:
        return True
    if not deadline.active():
        fcntl.flock(fd, kind)
        return True
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        if key in _BUSY:
            return False
    if _wait_for_lock(fd, kind):
        return True
    _BUSY.add(key)
    return False


def _wait_for_lock(fd: int, kind: int) -> bool:
    assert fcntl is not None
    end = time.monotonic() + deadline.wait_for(LOCK_WAIT_S)
    delay = 0.001
    while True:
        now = time.monotonic()
        if now >= end:
            return False
        time.sleep(min(delay, end - now))
        delay = min(delay * 2, 0.02)
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            continue


# -- the journal: changes waiting for the lock (files: hot/hooks/journal.py) ---


def _journal(key: str) -> list[tuple[str, dict[str, Any]]]:
    """``[(file, operations)]`` waiting in the session's journal, oldest first
    (a listing that finds nothing on the usual path: the rest is imported
    only when there is a journal)."""
    folder = _journal_dir(key)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    from tierwise.hot.hooks import journal

    return [(path, _parse(data)) for path, data in journal.load(folder, names, MAX_STATE_BYTES)]


def _container(st: dict[str, Any], path: list[str], create: bool) -> dict[str, Any] | None:
    cur: Any = st
    for part in path[:-1]:
        nxt = cur.get(part) if isinstance(cur, dict) else None
        if not isinstance(nxt, dict):
            if not create or not isinstance(cur, dict):
                return None
            nxt = cur[part] = {}
        cur = nxt
    return cur if isinstance(cur, dict) else None


def apply_op(st: dict[str, Any], op: dict[str, Any]) -> None:
    """One journal operation: ``{"set": [path, value]}``, ``{"del": path}``,
    ``{"append": [path, value, keep_last]}`` or
    ``{"merge_overrides": {"prompt": text, "found": overrides}}``."""
    if isinstance(op.get("set"), list) and len(op["set"]) == 2 and isinstance(op["set"][0], list) and op["set"][0]:
        path, value = op["set"]
        holder = _container(st, [str(p) for p in path], create=True)
        if holder is not None:
            holder[str(path[-1])] = value
    elif isinstance(op.get("del"), list) and op["del"]:
        path = [str(p) for p in op["del"]]
        holder = _container(st, path, create=False)
        if holder is not None:
            holder.pop(path[-1], None)
    elif isinstance(op.get("append"), list) and len(op["append"]) == 3 and isinstance(op["append"][0], list):
        path, value, keep = op["append"]
        holder = _container(st, [str(p) for p in path], create=True) if path else None
        if holder is not None:
            current = holder.get(str(path[-1]))
            items = [*(current if isinstance(current, list) else []), value]
            holder[str(path[-1])] = items[-int(keep):] if isinstance(keep, int) and keep > 0 else items
    elif isinstance(op.get("merge_overrides"), dict):
        from tierwise.hot.routing.overrides import merge

        spec = op["merge_overrides"]
        if isinstance(spec.get("prompt"), str):
            st["prompt"] = spec["prompt"]
        st["overrides"] = merge(st.get("overrides"), spec.get("found") or {})


def _replay(st: dict[str, Any], journal: list[tuple[str, dict[str, Any]]]) -> None:
    for _, entry in journal:
        for op in entry.get("ops") or []:
            if isinstance(op, dict):
                apply_op(st, op)


def _with_journal(key: str, st: dict[str, Any]) -> dict[str, Any]:
    journal = _journal(key)
    if journal:
        _replay(st, journal)
    return st


# -- reading and writing -------------------------------------------------------


def _open(key: str, flags: int) -> int:
    return paths.open_regular(_path(key), flags, 0o600, follow_symlinks=False)


def _read_unlocked(key: str) -> dict[str, Any]:
    """The state file without the lock (its holder may be rewriting it in place:
    a torn read does not parse and is read again, a few times at most)."""
    for attempt in range(4):
        try:
            fd = _open(key, os.O_RDONLY)
        except OSError:
            return {}
        try:
            data = _read_all(fd)
        except OSError:
            return {}
        finally:
            os.close(fd)
        if data is None:
            return {}
        parsed = _parse(data)
        if parsed or not data.strip() or attempt == 3 or deadline.expired():
            return parsed
        time.sleep(0.002)
    return {}


def peek(session_id: object) -> dict[str, Any]:
    """The state as :func:`read` gives it, without taking the lock."""
    key = session_key(session_id)
    return _with_journal(key, _read_unlocked(key))


def read(session_id: object) -> dict[str, Any]:
    key = session_key(session_id)
    try:
        fd = _open(key, os.O_RDONLY)
    except OSError:
        return _with_journal(key, {})
    try:
        if not _lock(fd, fcntl.LOCK_SH if fcntl is not None else 0, key):
            os.close(fd)
            fd = -1
            return peek(session_id)
        return _with_journal(key, _parse(_read_all(fd)))
    except OSError:
        return _with_journal(key, {})
    finally:
        if fd >= 0:
            os.close(fd)  # releases the flock


def update(session_id: object, change: Callable[[dict[str, Any]], object]) -> object:
    """Apply ``change`` to the session's state under the lock; returns its result.

    Raises :class:`Busy` when the lock is not free within the deadline (the
    state is unchanged) and ``OSError`` when the state cannot be written.
    """
    key = session_key(session_id)
    os.makedirs(paths.sessions_dir(), exist_ok=True)
    fd = _open(key, os.O_RDWR | os.O_CREAT)
    try:
        if not _lock(fd, fcntl.LOCK_EX if fcntl is not None else 0, key):
            raise Busy(_path(key))
        state = _parse(_read_all(fd))
        journal = _journal(key)
        _replay(state, journal)
        result = change(state)
        _prune(state)
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        written = 0
        while written < len(data):
            written += os.pwrite(fd, data[written:], written)
        os.ftruncate(fd, len(data))
        for path, _ in journal:
            try:
                os.unlink(path)
            except OSError:
                pass
        return result
    finally:
        os.close(fd)  # releases the flock


def apply(session_id: object, ops: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Apply journal operations now, or, when the lock is busy, journal them for
    the next process that holds it. Returns the state they produced when
    applied now, None when journaled. Raises OSError when neither the state
    nor the journal can be written."""

    def change(st: dict[str, Any]) -> dict[str, Any]:
        for op in ops:
            apply_op(st, op)
        return st

    try:
        result = update(session_id, change)
        return result if isinstance(result, dict) else None
    except Busy:
        from tierwise.hot.hooks import journal

        journal.write(_journal_dir(session_key(session_id)), ops)
        return None


def take(session_id: object, path: list[str]) -> Any:
    """Pop the value at ``path`` (None when absent); under a busy lock, read it
    unlocked and journal its removal."""

    def change(st: dict[str, Any]) -> Any:
        holder = _container(st, path, create=False)
        return holder.pop(path[-1], None) if holder is not None else None

    try:
        return update(session_id, change)
    except Busy:
        from tierwise.hot.hooks import journal

        current = peek(session_id)
        holder = _container(current, path, create=False)
        value = holder.get(path[-1]) if holder is not None else None
        if value is not None:
            journal.write(_journal_dir(session_key(session_id)), [{"del": path}])
        return value


# The most entries each table keeps (the oldest by "ts" go first).
MAX_ENTRIES = {"pending": MAX_PENDING, "background": MAX_PENDING, "unsettled": 64, "agents": 200}


def _prune(state: dict[str, Any]) -> None:
    for name, limit in MAX_ENTRIES.items():
        table = state.get(name)
        if isinstance(table, dict) and len(table) > limit:
            def stamp(k: str) -> str:
                return str(table[k].get("ts", "")) if isinstance(table[k], dict) else ""

            for stale in sorted(table, key=stamp)[: len(table) - limit]:
                del table[stale]
