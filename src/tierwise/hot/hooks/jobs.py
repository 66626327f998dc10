"""What a deferred job does (``hot.hooks.deferred`` keeps, locks and hands them out).

``agent``: a finished subagent's transcript read and recorded (PostToolUse);
``fork``: a forked skill's subagent transcript (PostToolUse on Skill);
``decision``: a decision record (PostToolUse, PostToolUseFailure);
``adapter``: a client's own (``Adapter.after_answer``; Codex CLI: rows its
SubagentStop recorded before the spawn call's PostToolUse named their run).
Each runs the very code the hook would have run before answering, over a
Context rebuilt from the job (the hook's payload, client, project and time).

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

from tierwise.hot.hooks import deferred

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context


def _context(job: dict[str, Any]) -> Context:
    from tierwise.hot.hooks.adapter import get_adapter
    from tierwise.hot.hooks.runtime import Context, iso

    payload = job["payload"]
    ctx = Context(str(job.get("event") or "PostToolUse"), payload, get_adapter(job.get("client"), payload))
    now = job.get("now")
    if isinstance(now, (int, float)):
        ctx.now = float(now)  # the records carry the time of the tool call, not of the job
        ctx.timestamp = iso(ctx.now)
    if isinstance(job.get("project"), str):
        ctx.project = job["project"]  # as the hook saw it (its environment may name the project)
    return ctx


def _pending(job: dict[str, Any]) -> dict[str, Any] | None:
    value = job.get("pending")
    return value if isinstance(value, dict) else None


def run(job: dict[str, Any]) -> None:
    kind = job.get("kind")
    if kind not in ("agent", "fork", "decision", "adapter"):
        raise ValueError(f"unknown job kind {kind!r}")
    ctx = _context(job)
    if kind == "agent":
        from tierwise.hot.hooks.tools import finish_agent

        usage = ctx.adapter.agent_usage(ctx.payload.get("tool_response"))
        if usage is not None:
            finish_agent(ctx, _pending(job), usage)
    elif kind == "fork":
        from tierwise.hot.hooks.tools import record_fork

        record_fork(ctx, _pending(job), str(job.get("agent_id")))
    elif kind == "adapter":
        ctx.adapter.after_answer(ctx, job)
    else:
        from tierwise.hot.hooks import records

        rec = job.get("record")
        if isinstance(rec, dict):
            # with the cached budget carried past it: a decision changes the ledger's stamp, not the budget
            records.persist(ctx, [("decision", rec)])


def drain(wait_s: float | None = None) -> int:
    """Do (or wait for) every deferred job; how many are still being done past the wait."""
    return deferred.drain(run, wait_s)


def after_answer() -> None:
    """``entry.run``: the jobs this process queued, done by its child after the answer."""
    deferred.after_answer(run)
