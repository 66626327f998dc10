"""The time bound of one hook process.

A hook that outlives the client's timeout is killed, and whatever it was about
to record is gone. So every hook process runs against a deadline set when it
starts handling its event (:data:`BOUNDS`, far below the timeouts ``tierwise install`` writes),
and everything that can wait on someone else honours it: the session lock
(``hot/hooks/state.py``), SQLite's busy handler and retries (``hot/ledger/db.py``),
the spool replay and transcript reads. Work that does not fit is deferred, never
dropped: a ledger write
goes to the spool, a session-state change to the session's journal, the rest
of a transcript to the next Stop (or to ``tierwise import``).

Commands (the CLI) never start a deadline: there every wait is as long as it
always was.

Hot module: standard library only.
"""

from __future__ import annotations

import time

# Seconds a hook process may spend waiting, per event, whatever the ledger, the
# session state or the transcripts hold. The client timeouts `tierwise install`
# writes are 10-30 s (docs/hooks.md); the hook's own work is milliseconds.
BOUNDS = {
    "PreToolUse": 0.5,
    "UserPromptSubmit": 1.0,
    "PostToolUseFailure": 2.0,
    "PostToolUse": 5.0,
    "SubagentStop": 5.0,
    "Stop": 5.0,
    "SessionEnd": 1.0,  # Claude Code gives SessionEnd ~1.5 s when no timeout is declared (plugin installs)
    "SessionStart": 10.0,
}
DEFAULT_BOUND = 1.0
# Kept back from every wait so that what follows a failed wait (spooling the
# record, answering the client) still fits inside the bound.
RESERVE_S = 0.05

_end: float | None = None


def start(event: str, seconds: float | None = None) -> None:
    """Start the deadline of a hook process handling ``event``."""
    global _end
    _end = time.monotonic() + (seconds if seconds is not None else BOUNDS.get(event, DEFAULT_BOUND))


def clear() -> None:
    global _end
    _end = None


def active() -> bool:
    return _end is not None


def left() -> float | None:
    """Seconds left (never below 0), or None when no deadline is running."""
    if _end is None:
        return None
    return max(0.0, _end - time.monotonic())


def wait_for(seconds: float) -> float:
    """How long a wait that would take ``seconds`` may take now: all of it
    without a deadline, else what the deadline leaves after the reserve."""
    remaining = left()
    if remaining is None:
        return seconds
    return max(0.0, min(seconds, remaining - RESERVE_S))


def expired() -> bool:
    remaining = left()
    return remaining is not None and remaining <= RESERVE_S
