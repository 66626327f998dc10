"""SessionStart, SubagentStop, Stop and SessionEnd.

Stop / SessionEnd: attribute the main conversation's new transcript lines
(Claude Code: tokens spent inline under a Skill), then build the §5.2 session
summary, store it (``record_summary``) and show it to the user. Stop fires
after every turn and Qwen Code has no SessionEnd in ``-p`` mode, so both
events do the same, and a summary identical to the last one shown is neither
stored nor shown again.

Hot module (SessionStart may rebuild the cache, which is cold by design).
"""

from __future__ import annotations

from tierwise.hot import hotjson as json, paths

from tierwise.hot.hooks import records, state
from tierwise.hot.hooks.runtime import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


MAX_SUMMARY_WARNINGS = 10


def session_start(ctx: Context) -> dict[str, Any] | None:
    """Compile (or refresh) the cache and the price table now, off the tool-call path;
    then what the client does at a session's start (Claude Code: note the forked
    skill copies this session loaded, refresh them for the next one).

    SessionStart may import the cold modules (YAML for the cache, genai-prices for
    prices); it runs once per session, not per tool call."""
    compiled = ctx.cache
    import os

    from tierwise.hot.ledger import pricing

    if not os.path.exists(pricing.table_path()):
        from tierwise.hot import cold

        cold.ensure_price_table()
    ctx.adapter.session_started(ctx, compiled)
    return None


def subagent_stop(ctx: Context) -> dict[str, Any] | None:
    """A subagent launched in the background: its tokens arrive now (Claude Code)."""
    agent_id = ctx.payload.get("agent_id")
    ctx.adapter.record_subagent_stop(ctx)
    if not isinstance(agent_id, str) or ctx.adapter.name != "claude":
        return None

    run = ctx.state_take(["background", agent_id], f"the background agent {agent_id}")
    if not isinstance(run, dict):
        return None  # a foreground agent: PostToolUse records it
    from tierwise.hot.ledger import settle
    from tierwise.hot.hooks import transcript

    path = transcript.allowed(ctx.payload.get("agent_transcript_path")) or transcript.agent_transcript_path(
        ctx.payload.get("transcript_path"), ctx.session_id, agent_id
    )
    rows, size = transcript.read_agent_rows(path) if path else ([], 0)
    usage = {"agent_id": agent_id, "model_used": None, "tool_calls": None}
    run_id = str(run.get("run_id") or ctx.run_id())
    if rows:
        records.record_run_usage(ctx, run, usage, run.get("skill"), rows=rows)
    elif isinstance(run.get("decision_record"), dict):
        records.write_decision(run["decision_record"])
    # its transcript's last lines may not be on disk yet either: the next Stop looks again
    settle.remember(ctx, run_id, {"client": "claude", "run": settle.run_fields(run, run_id), "skill": run.get("skill"),
                                  "usage": usage, "provisional": None, "agent_id": agent_id, "size": size})
    return None


def _attribute_main(ctx: Context) -> None:
    """Record the main transcript's new usage lines, with their inline skill.

    The cursor (offset and attribution state) is read, the new lines are read
    without holding the session lock (bounded: what does not fit in this
    hook's slice is read by the next Stop); then, under the lock, Qwen Code's
    skill calls are paired with the runs their hooks recorded and the cursor
    moves, unless another Stop moved it meanwhile. When the lock stays busy
    nothing is recorded and the cursor stays: the next Stop reads the same
    lines. A line read twice is stored once: the rows carry the transcript's
    own keys.
    """
    from tierwise.hot.hooks import transcript

    path = transcript.allowed(ctx.payload.get("transcript_path"))
    if not path:
        return
    from tierwise.hot.errors import StateError
    from tierwise.hot.ledger import record

    read = transcript.main_usage_rows if ctx.adapter.name == "claude" else transcript.qwen_main_rows
    cursor = ctx.session.get("transcript")
    cursor = cursor if isinstance(cursor, dict) else {}
    raw = cursor.get("offset")
    offset = raw if cursor.get("path") == path and isinstance(raw, int) and raw >= 0 else 0
    carried = cursor.get("active") if offset and isinstance(cursor.get("active"), dict) else None
    try:
        rows, new_offset, active = read(path, offset, carried)
    except OSError as exc:
        from tierwise.hot.hooks.runtime import warn

        warn(f"cannot read the transcript {path} ({exc.strerror or exc}); its usage is left to `tierwise import`")
        return
    calls = active.pop("calls", None) if isinstance(active, dict) else None
    before = dict(cursor)

    def change(st: dict[str, Any]) -> dict[str, str]:
        runs = _pair_calls(st, calls)
        now = st.get("transcript") if isinstance(st.get("transcript"), dict) else {}
        if now == before or not now:
            st["transcript"] = {"path": path, "offset": new_offset, "active": active}
        return runs

    if not rows and new_offset == offset and cursor.get("path") == path and not calls:
        return
    done, runs = ctx.state_update(change, "reading the transcript")
    if not done or not rows:
        return  # busy: the next Stop reads these lines again
    runs = runs if isinstance(runs, dict) else {}
    out = []
    for r in rows:
        skill = r.get("_skill")
        tuid = r.get("_tool_use_id")
        out.append(
            {
                "client": ctx.adapter.platform,
                "model": r.get("model"),
                "tier": records.tier_of_model(ctx, r.get("model")),
                **{k: r[k] for k in records.TOKEN_KEYS},
                "session_id": ctx.session_id,
                "project": ctx.project,
                "skill": skill,
                "run_id": runs.get(str(tuid)) if tuid in runs else (f"{ctx.session_id}:{tuid}" if tuid else None),
                "timestamp": r.get("timestamp") or ctx.timestamp,
                "source": "hook",
                "message_id": r.get("message_id"),
                "request_id": r.get("request_id"),
                "source_key": r.get("source_key"),
                "origin": "session_transcript",
            }
        )
    try:
        record.record_usage(out, ctx.config)  # spooled when the ledger cannot take it
    except StateError as exc:  # not even the spool: said (one line, with the fix)
        records.report_lost(exc)


MAX_CALL_RUNS = 500


def _pair_calls(st: dict[str, Any], calls: Any) -> dict[str, str]:
    """Qwen Code: the transcript's id of each skill call -> the run id its hooks
    recorded the decision under (PreToolUse queued ``{"name", "run_id"}`` in
    ``skill_calls``; a call is paired with the first queued one of its skill)."""
    runs = st.get("call_runs")
    if not isinstance(runs, dict):
        runs = st["call_runs"] = {}
    queue = st.get("skill_calls")
    queue = queue if isinstance(queue, list) else []
    for item in calls if isinstance(calls, list) else []:
        if not (isinstance(item, list) and len(item) == 2) or item[0] in runs:
            continue
        at = next((i for i, q in enumerate(queue) if isinstance(q, dict) and q.get("name") == item[1]), None)
        if at is not None:
            runs[item[0]] = str(queue.pop(at).get("run_id"))
    st["skill_calls"] = queue
    while len(runs) > MAX_CALL_RUNS:
        runs.pop(next(iter(runs)))
    return {k: v for k, v in runs.items() if isinstance(v, str)}


def _summary(ctx: Context) -> dict[str, Any] | None:
    try:
        records.flush_pending(ctx.session_id, remove=True)
    except state.Busy:
        pass  # the waiting decisions go with the next Stop (or `tierwise audit`)
    except OSError as exc:
        ctx.state_trouble(exc, "decisions waiting in it are recorded by a later Stop or `tierwise audit`")
    _attribute_main(ctx)
    ctx.adapter.record_stop(ctx)
    from tierwise.hot.ledger import settle

    settle.settle_runs(ctx)  # also the forked skills' transcripts (tools.record_fork)
    ctx.adapter.turn_ended(ctx)
    from tierwise.hot.hooks.summary import build, render_text

    try:
        budget = ctx.budget()
    except Exception:  # noqa: BLE001 - the summary is still worth showing
        budget = None
    from tierwise.hot.errors import StateError
    from tierwise.hot.ledger.db import sqlite3

    try:
        summary = build(ctx.conn, ctx.session_id, ctx.config, ctx.adapter.platform, budget)
    except (sqlite3.Error, StateError) as exc:
        ctx.ledger_trouble(exc, "no session summary this time")
        return None
    if not summary["skills"]:
        return None  # tierwise routed nothing in this session: say nothing
    from tierwise.hot.hooks.runtime import problem_line

    summary["warnings"] = [problem_line(p) for p in ctx.problems()][:MAX_SUMMARY_WARNINGS]
    fingerprint = paths.short_digest(json.dumps([summary["skills"], summary["totals"], summary["warnings"]],
                                                sort_keys=True))

    def change(st: dict[str, Any]) -> bool:
        if st.get("summary_fingerprint") == fingerprint:
            return False
        st["summary_fingerprint"] = fingerprint
        return True

    done, changed = ctx.state_update(change, "the summary")
    if not done or not changed:
        return None  # shown already, or the session is busy: the next Stop shows it
    from tierwise.hot.ledger import record

    summary["project"] = ctx.project
    summary["timestamp"] = ctx.timestamp
    record.record_summary(summary)
    text = render_text(summary)
    ctx.audit("[SUMMARY]\n" + text)
    return ctx.adapter.stop_message(text)


def _team_sync(ctx: Context, always: bool) -> None:
    from tierwise.hot.hooks import team_sync

    team_sync.maybe_start(ctx.project, ctx.adapter.platform, always=always)


def _export_after(ctx: Context) -> None:
    """Automatic OpenTelemetry export (docs/otel.md): started detached, never awaited."""
    try:
        config = ctx.config
    except Exception:  # noqa: BLE001 - a broken config: the environment may still ask for it
        config = None
    from tierwise.hot.hooks import background

    background.after_stop(config, ctx.project, ctx.adapter.platform)


def _budget_for_next_turn(ctx: Context) -> None:
    """Measure the budget after Stop's writes (main transcript rows, settled runs,
    the summary) and cache it, so the next turn's first PreToolUse reads it
    instead of opening the ledger while the agent waits."""
    try:
        ctx.forget_budget()
        ctx.budget()
    except Exception:  # noqa: BLE001 - only a cache: the next hook measures
        pass


def stop(ctx: Context) -> dict[str, Any] | None:
    try:
        answer = _summary(ctx)
        _budget_for_next_turn(ctx)
        return answer
    finally:
        _team_sync(ctx, always=False)
        _export_after(ctx)


def session_end(ctx: Context) -> dict[str, Any] | None:
    try:
        answer = _summary(ctx)
    finally:
        _team_sync(ctx, always=True)
        _export_after(ctx)
    if answer is None:
        return None
    # SessionEnd output takes no hookSpecificOutput; a systemMessage is all it can carry.
    return {"systemMessage": answer.get("systemMessage")}
