"""Work a hook leaves for after its answer: reading a finished subagent's
transcript and writing the ledger (PostToolUse, PostToolUseFailure).

A hook process on a tool call answers the client, and the agent waits for
that answer; the ledger write (SQLite's import and transaction, the
transcript read, pricing, the budget update) is not part of the answer. So
the hook writes what it must keep as one *job* file under
``$TIERWISE_HOME/deferred/`` (the payload and the run it took from the
session state: a small write, no SQLite), answers, and the process that
answered forks: the parent exits at once, the child (its own session, stdio
on /dev/null) does the job and deletes its file. No new interpreter starts.

A job is never lost and never done twice:

- its file is complete before it has its name (written under a temp name and
  renamed), and the hook holds an ``flock`` on it from before the rename until
  its child is done (the lock is shared across ``fork``);
- whoever does a job holds that lock, checks the file is still the one it
  opened, does the job and deletes the file before releasing it; the ledger
  writes are idempotent besides (usage rows by unique key, records by run);
- a job whose process died is done by the next :func:`drain`: the budget of
  the next hook (:meth:`Context.budget`), Stop / SubagentStop / SessionEnd, and
  every CLI command before it reads the ledger. A drain waits for a job that
  is being done (bounded by the hook's deadline), so they all see every
  record, whatever the timing.

In a process that did not start through ``entry.run`` (tests calling
``dispatch.handle``, the demo), :func:`defer` says no and the caller does the
job at once, as it did before it could defer.

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

import os
import time

from tierwise.hot import hotjson as json
from tierwise.hot import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from collections.abc import Callable

    from tierwise.hot.hooks.runtime import Context

    Runner = Callable[[dict[str, Any]], None]

ENV_DEFER = "TIERWISE_HOOK_DEFER"  # "0": every hook does its work before answering (for comparison, debugging)
SUFFIX = ".job"
MAX_JOB_BYTES = 64 * 1024 * 1024
# How long a CLI command waits for a job a hook's child is still doing (it is bounded by its own deadline).
CLI_WAIT_S = 15.0
# Set by entry.run: this process answers a client and may fork after answering.
ENABLED = False
# Jobs this process queued: (path, locked descriptor), done by its child after the answer.
_QUEUED: list[tuple[str, int]] = []
# True while this process does jobs: a job's own budget read must not drain again.
_DOING = False


def folder() -> str:
    return paths.deferred_dir()


def defer(ctx: Context, kind: str, data: dict[str, Any]) -> bool:
    """Keep job ``kind`` (``hot.hooks.jobs``) for after the answer; False when this
    process cannot defer (or the job file cannot be written): the caller does it now."""
    if not ENABLED:
        return False
    job = {"kind": kind, "client": ctx.adapter.name, "event": ctx.event, "now": ctx.now,
           "project": ctx.project, "payload": ctx.payload, **data}
    queued = _queue(job)
    if queued is None:
        return False
    _QUEUED.append(queued)
    return True


def _queue(job: dict[str, Any]) -> tuple[str, int] | None:
    import fcntl

    where = folder()
    name = f"{time.time_ns():020d}-{os.getpid()}"
    temp = os.path.join(where, f".{name}.tmp")
    final = os.path.join(where, name + SUFFIX)
    try:
        os.makedirs(where, exist_ok=True)
        data = json.dumps(job, sort_keys=True, default=str).encode("utf-8")
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except (OSError, ValueError, TypeError):
        return None  # a full or read-only state dir: the work is done now, and says what it could not keep
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: nobody else holds it
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.rename(temp, final)
    except OSError:
        os.close(fd)
        try:
            os.unlink(temp)
        except OSError:
            pass
        return None
    return final, fd


def pending() -> bool:
    return bool(_QUEUED)


def after_answer(runner: Runner) -> None:
    """``entry.run``, once the answer is written and flushed: fork; the parent
    returns (and exits), the child does the queued jobs and exits.

    When the fork fails the jobs are done here, before the process exits."""
    if not _QUEUED:
        return
    try:
        pid = os.fork()
    except OSError:
        pid = 0
        detached = False
    else:
        detached = True
    if pid:
        return  # the parent: its copies of the descriptors close when it exits; the locks stay with the child
    if detached:
        try:
            os.setsid()  # out of the client's process group and session: its timeout does not reach us
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDWR)
        for target in (0, 1, 2):
            os.dup2(null, target)
        os.close(null)
    from tierwise.hot import deadline

    deadline.start("PostToolUse")  # the child's own bound: every wait ends within it
    for path, fd in list(_QUEUED):
        _run_locked(path, fd, runner, log=detached)
    _QUEUED.clear()


def _run_locked(path: str, fd: int, runner: Runner, *, log: bool) -> None:
    """Do the job in ``path`` whose lock ``fd`` holds, delete it, release it."""
    global _DOING
    try:
        if not _same_file(path, fd):
            return  # done (and deleted) by someone else
        try:
            job = _read(fd)
        except (OSError, ValueError) as exc:
            _set_aside(path, f"unreadable ({exc})")
            return
        _DOING = True
        try:
            runner(job)
        except Exception as exc:  # noqa: BLE001 - kept for inspection; the other jobs go on
            _set_aside(path, f"failed: {type(exc).__name__}: {exc}")
            return
        finally:
            _DOING = False
            if log:
                _log_warnings(job)
        try:
            os.unlink(path)
        except OSError:
            pass
    finally:
        os.close(fd)


def _same_file(path: str, fd: int) -> bool:
    try:
        mine, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def _read(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    total = 0
    while chunk := os.read(fd, 1 << 20):
        total += len(chunk)
        if total > MAX_JOB_BYTES:
            raise ValueError(f"larger than {MAX_JOB_BYTES} bytes")
        chunks.append(chunk)
    job = json.loads(b"".join(chunks).decode("utf-8"))
    if not isinstance(job, dict) or not isinstance(job.get("kind"), str) or not isinstance(job.get("payload"), dict):
        raise ValueError("not a tierwise job")
    return job


def _set_aside(path: str, why: str) -> None:
    paths.log_error(f"deferred hook work {path} {why}; kept as {path}.bad for inspection")
    try:
        os.rename(path, path + ".bad")
    except OSError:
        pass


def _log_warnings(job: dict[str, Any]) -> None:
    """What the job worked around goes to the error log (nobody reads the child's stderr)."""
    import sys

    runtime = sys.modules.get("tierwise.hot.hooks.runtime")
    if runtime is None:
        return
    for warning in runtime.take_warnings():
        paths.log_error(f"tierwise hook {job.get('event')} (after its answer): warning: {warning}"[:2000])


def _jobs() -> list[str]:
    try:
        names = os.listdir(folder())
    except OSError:
        return []  # the usual case when nothing was ever deferred
    return sorted(n for n in names if n.endswith(SUFFIX))


def waiting() -> bool:
    """Whether any job is on disk (one ``listdir``; an empty folder is the usual case)."""
    try:
        return any(n.endswith(SUFFIX) for n in os.listdir(paths.deferred_dir()))
    except OSError:
        return False


def drain(runner: Runner, wait_s: float | None = None) -> int:
    """Do every job left in the folder (a hook's child that died, a fork that
    failed) and wait for those being done, all together at most ``wait_s``
    (under a hook's deadline: what it leaves; a CLI: :data:`CLI_WAIT_S`).
    Returns how many jobs are still there (being done past the wait)."""
    if _DOING:
        return 0
    jobs = _jobs()
    return _drain(jobs, runner, wait_s) if jobs else 0


def _drain(jobs: list[str], runner: Runner, wait_s: float | None) -> int:
    import fcntl

    from tierwise.hot import deadline

    if deadline.active():
        budget = deadline.wait_for(wait_s if wait_s is not None else (deadline.left() or 0.0))
    else:
        budget = CLI_WAIT_S if wait_s is None else wait_s
    end = time.monotonic() + budget
    left = 0
    where = folder()
    for name in jobs:
        path = os.path.join(where, name)
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue  # done meanwhile
        if not _lock(fd, end, fcntl):
            os.close(fd)
            left += 1
            continue
        _run_locked(path, fd, runner, log=False)
    return left


def _lock(fd: int, end: float, fcntl: Any) -> bool:
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        except OSError:
            return False
        now = time.monotonic()
        if now >= end:
            return False
        time.sleep(min(delay, end - now))
        delay = min(delay * 2, 0.02)
