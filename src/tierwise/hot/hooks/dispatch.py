"""``handle(event, raw, client)``: one hook event in, the client's JSON (or None) out.

Parses the payload, picks the client's adapter, and runs the event's handler.
Malformed input is not an error worth reporting: anything that is not a JSON
object, or an event tierwise does not handle, returns None (no stdout). Real
failures raise and ``entry.main`` turns them into exit 0 + one stderr line.

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
from tierwise.hot.hooks.events import EVENTS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from tierwise.hot.hooks.runtime import Context



def _handler(event: str) -> Callable[[Context], dict[str, Any] | None] | None:
    if event == "PreToolUse":
        from tierwise.hot.hooks.tools import pre_tool

        return pre_tool
    if event == "PostToolUse":
        from tierwise.hot.hooks.tools import post_tool

        return post_tool
    if event == "PostToolUseFailure":
        from tierwise.hot.hooks.tools import post_tool_failure

        return post_tool_failure
    if event == "UserPromptSubmit":
        from tierwise.hot.hooks.prompt import user_prompt

        return user_prompt
    if event in ("Stop", "SessionEnd", "SessionStart", "SubagentStop"):
        from tierwise.hot.hooks import session

        return {
            "Stop": session.stop,
            "SessionEnd": session.session_end,
            "SessionStart": session.session_start,
            "SubagentStop": session.subagent_stop,
        }[event]
    return None


def _settle_deferred(event: str) -> None:
    """Records an earlier hook left for after its answer (``hot.hooks.deferred``)
    are in the ledger before this hook reads it: a job being done is waited for
    (half the event's bound at most), a job nobody does is done here. A tool
    call's PostToolUse does not wait: what it records is itself deferred."""
    import os

    from tierwise.hot import paths

    try:  # one listdir; the deferred module is loaded only when there is a job
        if not any(name.endswith(".job") for name in os.listdir(paths.deferred_dir())):
            return
    except OSError:
        return
    from tierwise.hot import deadline
    from tierwise.hot.hooks import deferred
    from tierwise.hot.hooks.jobs import drain

    if deferred.ENABLED and event in ("PostToolUse", "PostToolUseFailure"):
        wait = 0.0
    else:
        wait = deadline.BOUNDS.get(event, deadline.DEFAULT_BOUND) / 2
    drain(wait)


def parse(raw: bytes | str) -> dict[str, Any] | None:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def handle(event: str, raw: bytes | str, client: str | None = None) -> str | None:
    if event not in EVENTS:
        return None
    payload = parse(raw)
    if payload is None:
        return None
    named = payload.get("hook_event_name")
    if isinstance(named, str) and named in EVENTS and named != event:
        return None  # installed under one event, fed another: not ours to answer
    handler = _handler(event)
    if handler is None:
        return None
    from tierwise.hot.hooks.adapter import get_adapter
    from tierwise.hot.hooks.runtime import Context

    adapter = get_adapter(client, payload)
    if event in ("PreToolUse", "PostToolUse", "PostToolUseFailure") and adapter.tool_kind(payload.get("tool_name")) is None:
        return None  # a tool tierwise does not route: no cache, no ledger
    from tierwise.hot import deadline
    from tierwise.hot.hooks import state
    from tierwise.hot.hooks.runtime import take_warnings

    take_warnings()  # this event's warnings only (an in-process caller may handle many)
    state.new_event()
    # every wait from here on (locks, the ledger, transcripts) ends within the event's bound
    deadline.start(event)
    try:
        _settle_deferred(event)
        ctx = Context(event, payload, adapter)
        # The ledger connection is not closed here: closing the last connection
        # checkpoints the WAL (fsyncs, ~3 ms) and changes the ledger's stamp, which
        # would void the budget state this process just cached. Every record is
        # committed by now; a hook process ends with os._exit (entry.run), and an
        # in-process caller's connection closes when the Context is collected.
        answer = handler(ctx)
    finally:
        deadline.clear()
    return adapter.dumps(answer)
