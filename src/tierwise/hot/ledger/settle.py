"""Subagent runs recorded before their transcript was complete.

Claude Code may not have written a subagent transcript's last lines when
PostToolUse(Agent) fires (nor when SubagentStop fires for a background agent);
Qwen Code's session file may not hold a subagent's telemetry yet when
PostToolUse(agent) fires. The hook then records what the client's payload says
as a provisional row (``ledger.record.settle``) and remembers the run here, in
the session state. Every Stop / SessionEnd reads those transcripts again and
records what they hold now: the transcript's rows replace the provisional one.
A forked skill's run (``tools.record_fork``) is kept until its transcript holds
the fork's final response (``transcript.fork_complete``): Claude Code may write
it after Stop, and a file that has not grown since is not yet a complete one.
Whatever is still provisional when the session ends is settled by `tierwise
import`. Nothing waits for the client.

Hot module.
"""

from __future__ import annotations

import os

from tierwise.hot.hooks import records, state, transcript
from tierwise.hot.hooks.runtime import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

KEY = "unsettled"
MAX_RUNS = state.MAX_ENTRIES[KEY]  # the table is pruned to this many runs by state._prune


def run_fields(run: dict[str, Any] | None, run_id: str) -> dict[str, Any]:
    """What a later hook needs of a pending run to record it again (not its decision: that is written)."""
    out = {k: v for k, v in (run or {}).items() if k in ("kind", "skill", "tier", "model", "preferred", "reason", "ts")}
    out["run_id"] = run_id
    return out


def remember(ctx: Context, run_id: str, entry: dict[str, Any]) -> None:
    """Keep a run for the next Stop: ``{"client", "run", "skill", "usage", "provisional",
    "agent_id" + "size" (Claude: the subagent transcript's bytes read) | "summary" (Qwen)}``."""
    entry = {**entry, "ts": ctx.timestamp}
    # journaled when the session's lock is busy; state._prune keeps the table to MAX_RUNS
    ctx.state_apply([{"set": [[KEY, run_id], entry]}], f"the run {run_id} waiting for its transcript")


def settle_runs(ctx: Context) -> int:
    """Read again the transcripts of the session's remembered runs and record what
    they hold now; forget a run once its transcript holds all it should.
    Returns how many runs were settled."""
    table = state.read(ctx.session_id).get(KEY)
    if not isinstance(table, dict) or not table:
        return 0
    done: list[str] = []
    sizes: dict[str, int] = {}
    groups: dict[str, dict[str, Any]] | None = None  # Qwen: one read of the session file for every run
    for run_id, entry in table.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("usage"), dict):
            done.append(run_id)
            continue
        if entry.get("client") == "qwen":
            if groups is None:
                path = transcript.allowed(ctx.payload.get("transcript_path"))
                groups = transcript.qwen_subagent_groups(path) if path else {}
            summary = entry.get("summary")
            rows = transcript.match_qwen_group(groups, summary, entry["usage"].get("agent_id")) \
                if isinstance(summary, dict) else []
            if rows:
                rec = records.record_run_usage(ctx, entry.get("run"), entry["usage"], entry.get("skill"), rows=rows)
                _audit(ctx, entry, rec)
                done.append(run_id)
            continue
        agent_id = entry.get("agent_id")
        path = (transcript.agent_transcript_path(ctx.payload.get("transcript_path"), ctx.session_id, agent_id)
                if isinstance(agent_id, str) else None)
        try:
            size = os.stat(path).st_size if path else -1
        except OSError:
            size = -1
        seen = entry["size"] if isinstance(entry.get("size"), int) else 0
        fork = entry.get("fork") if isinstance(entry.get("fork"), dict) else None
        if size <= seen:
            # nothing new since it was recorded; a forked skill's final response may still come
            # (transcript.fork_complete), unless it has no transcript to come in
            if not entry.get("provisional") and (fork is None or fork.get("complete") or size < 0):
                done.append(run_id)
            continue
        assert path is not None
        rows, read = transcript.read_agent_rows(path)
        kind = entry.get("provisional")
        late = bool(kind) and not transcript.holds_request(rows, entry["usage"])
        if kind == "last_request" and not late:
            transcript.complete_last_request(rows, entry["usage"])
        if rows:
            rec = records.record_run_usage(ctx, entry.get("run"), entry["usage"], entry.get("skill"), rows=rows,
                                           provisional=kind if late else None)
            if kind and not late:
                _audit(ctx, entry, rec)
        incomplete = fork is not None and not transcript.fork_complete(
            rows, fork.get("expect") if isinstance(fork.get("expect"), str) else None)
        if late or read < size or incomplete:
            sizes[run_id] = read  # not all of it yet (a line still being written, or a read cut short)
        else:
            done.append(run_id)
    if done or sizes:

        def change(st: dict[str, Any]) -> None:
            current = st.get(KEY)
            if not isinstance(current, dict):
                return
            for run_id in done:
                current.pop(run_id, None)
            for run_id, size in sizes.items():
                if isinstance(current.get(run_id), dict):
                    current[run_id]["size"] = size

        ctx.state_update(change, "settled runs")  # busy: the next Stop settles them again (idempotent)
    return len(done)


def _audit(ctx: Context, entry: dict[str, Any], rec: dict[str, Any]) -> None:
    tokens = rec["tokens"]
    ctx.audit(
        f"[USAGE] {entry.get('skill') or '(no skill)'} run {rec['run_id']}: {tokens['total']} tokens "
        f"(input {tokens['input']}, output {tokens['output']}, cache read {tokens['cache_read']}, "
        f"cache write {tokens['cache_write']}) from the transcript, replacing the provisional figure "
        "from the client's tool response"
    )
