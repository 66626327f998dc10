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

    def change(st: dict[str, Any]) -> Any:
        table = st.get("background")
        return table.pop(agent_id, None) if isinstance(table, dict) else None

    run = state.update(ctx.session_id, change)
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
    """Record the main transcript's new usage lines, with their inline skill."""
    from tierwise.hot.hooks import transcript

    path = transcript.allowed(ctx.payload.get("transcript_path"))
    if not path:
        return
    from tierwise.hot.ledger import record

    read = transcript.main_usage_rows if ctx.adapter.name == "claude" else transcript.qwen_main_rows

    def change(st: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = st.get("transcript") if isinstance(st.get("transcript"), dict) else {}
        assert isinstance(cursor, dict)
        raw = cursor.get("offset")
        offset = raw if cursor.get("path") == path and isinstance(raw, int) else 0
        carried = cursor.get("active") if offset and isinstance(cursor.get("active"), dict) else None
        try:
            rows, new_offset, active = read(path, offset, carried)
        except OSError:
            return []  # no transcript (yet): nothing to attribute, the summary still comes
        runs = _pair_calls(st, active.pop("calls", None) if isinstance(active, dict) else None)
        for row in rows:
            if row.get("_tool_use_id") in runs:
                row["_run_id"] = runs[row["_tool_use_id"]]
        st["transcript"] = {"path": path, "offset": new_offset, "active": active}
        return rows

    # Under the session lock, so two Stop hooks never read the same bytes twice.
    rows = state.update(ctx.session_id, change)
    if not isinstance(rows, list) or not rows:
        return
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
                "run_id": r.get("_run_id") or (f"{ctx.session_id}:{tuid}" if tuid else None),
                "timestamp": r.get("timestamp") or ctx.timestamp,
                "source": "hook",
                "message_id": r.get("message_id"),
                "request_id": r.get("request_id"),
                "source_key": r.get("source_key"),
                "origin": "session_transcript",
            }
        )
    record.record_usage(out, ctx.config)


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
    records.flush_pending(ctx.session_id, remove=True)
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
    summary = build(ctx.conn, ctx.session_id, ctx.config, ctx.adapter.platform, budget)
    if not summary["skills"]:
        return None  # tierwise routed nothing in this session: say nothing
    fingerprint = paths.short_digest(json.dumps([summary["skills"], summary["totals"]], sort_keys=True))

    def change(st: dict[str, Any]) -> bool:
        if st.get("summary_fingerprint") == fingerprint:
            return False
        st["summary_fingerprint"] = fingerprint
        return True

    if not state.update(ctx.session_id, change):
        return None
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


def stop(ctx: Context) -> dict[str, Any] | None:
    try:
        return _summary(ctx)
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
