"""Codex CLI (0.171.x) hook protocol. See PLATFORMS.md ("Codex CLI") and docs/codex.md.

Seen with the real binary (tests/data/payloads/codex-0.171.0):

- the subagent tool arrives as ``collaborationspawn_agent`` (namespace
  ``collaboration`` + name; older builds: ``multi_agent_v1spawn_agent``), input
  ``{task_name, message, model?, reasoning_effort?, fork_turns?}``; ``model``
  is honoured (it must be in Codex's model catalog);
- PreToolUse ``permissionDecision: "deny"`` blocks the call and hands
  ``permissionDecisionReason`` to the model; ``updatedInput`` is NOT applied
  (the hook is reported failed and the call runs unchanged). So a handoff's
  tier is enforced by refusing a call whose ``model`` differs and telling the
  model the exact call to make instead (``refuse_agent``);
- PostToolUse(spawn_agent) ``tool_response`` is a JSON string
  ``{"task_name": "/root/NAME"}``: no usage. A subagent's tokens are in its own
  rollout file (SubagentStop ``agent_transcript_path``), read by
  ``tierwise import codex`` and at Stop;
- no SessionStart env beyond ``CODEX_HOME``; the payload's ``cwd`` is the project.

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json

from tierwise.hot.hooks.adapter import Adapter, safe_skill_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context

SPAWN_TOOLS = frozenset({"collaborationspawn_agent", "multi_agent_v1spawn_agent", "spawn_agent"})
# How many times one handoff is refused for naming another model before it is let
# through (and its tier recorded as advisory): a model that cannot follow the
# instruction must not be stuck in a loop of refusals.
MAX_REFUSALS = 2


def _skill_item_names(items: object) -> list[str]:
    """Skill names from ``{"type": "skill", "path": ".../NAME/SKILL.md"}`` input items."""
    out: list[str] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or item.get("type") != "skill":
            continue
        name = item.get("name")
        path = item.get("path")
        if not isinstance(name, str) and isinstance(path, str):
            parts = path.replace("\\", "/").rstrip("/").split("/")
            if len(parts) >= 2 and parts[-1] == "SKILL.md":
                name = parts[-2]
        found = safe_skill_name(name)
        if found:
            out.append(found)
    return out


class CodexAdapter(Adapter):
    name = "codex"
    platform = "codex"
    skill_tools: frozenset[str] = frozenset()  # Codex has no skill tool: the model reads SKILL.md itself
    agent_tools = SPAWN_TOOLS
    write_tools: frozenset[str] = frozenset()
    enforces_subagent_model = False  # updatedInput is ignored ...
    enforces_by_refusal = True  # ... but deny reaches the model, which re-issues the call
    max_refusals = MAX_REFUSALS
    pre_tool_context_reaches_model = False
    post_tool_context_reaches_model = False
    label = "Codex CLI"

    def inline_enforcement(
        self, project: str, session: dict[str, Any], entry: dict[str, Any], decision: dict[str, Any], mode: str,
        source: str,
    ) -> dict[str, Any]:
        """A ``$skill`` the prompt names runs in the main conversation on the session's
        model: Codex CLI has no skill tool a hook could point elsewhere. The note says
        so without suggesting ``enforce: fork`` (which cannot apply here), and names
        what is enforced instead: a handoff through ``spawn_agent``."""
        from tierwise.hot.routing.enforcement import ADVISORY, result

        if mode != "fork":
            return result(ADVISORY, "Codex CLI runs a $skill in the main conversation on the session's model "
                          "(it has no skill tool a hook could point at another model), so its tier is advice; "
                          "a handoff through spawn_agent runs on its tier")
        return result(ADVISORY, "enforce: fork, but Codex CLI has no skill tool (the model reads SKILL.md itself), "
                      "so nothing can run a skill's work on another model than the session's; a handoff through "
                      "spawn_agent runs on its tier")

    def handoff_input(self, tool_input: dict[str, Any]) -> dict[str, Any]:
        """The spawn_agent input in the shape the handoff finder reads: the
        message as ``prompt`` (plus any ``skill`` items as skill objects)."""
        message = tool_input.get("message")
        text = message if isinstance(message, str) else ""
        items = tool_input.get("items")
        if isinstance(items, list):
            texts = [str(i["text"]) for i in items if isinstance(i, dict) and isinstance(i.get("text"), str)]
            text = "\n".join([text, *texts]) if texts else text
            names = _skill_item_names(items)
            if names:
                text = "\n".join(json.dumps({"skill": n}) for n in names) + "\n" + text
        return {"prompt": text}

    def requested_model(self, tool_input: dict[str, Any]) -> str | None:
        model = tool_input.get("model")
        return model if isinstance(model, str) and model else None

    def agent_usage(self, tool_response: object) -> dict[str, Any] | None:
        # no usage in spawn_agent's response: the subagent's rollout holds it
        return None

    def skills_named_in_prompt(self, prompt: str, known: list[str]) -> list[str]:
        """``$NAME`` mentions of known skills, in the order they appear (Codex's way
        to invoke a skill in the prompt)."""
        found = []
        for name in known:
            at = prompt.find("$" + name)
            while at >= 0:
                end = at + 1 + len(name)
                if end >= len(prompt) or not (prompt[end].isalnum() or prompt[end] in "-_"):
                    found.append((at, name))
                    break
                at = prompt.find("$" + name, end)
        return [name for _, name in sorted(found)]

    def agent_started(self, ctx: Context, run: dict[str, Any]) -> None:
        name = self.agent_path(ctx.payload.get("tool_response"))
        if name:
            remember_agent(ctx, name, run)

    def after_answer(self, ctx: Context, job: dict[str, Any]) -> None:
        run = job.get("run")
        if job.get("what") != "link_agent_rows" or not isinstance(run, dict) \
                or not isinstance(job.get("agent_path"), str):
            super().after_answer(ctx, job)
            return
        link_agent_rows(ctx, job["agent_path"], run)

    def record_subagent_stop(self, ctx: Context) -> None:
        from tierwise.hot.hooks import transcript

        path = transcript.allowed(ctx.payload.get("agent_transcript_path"))
        if path:
            record_subagent(ctx, path)

    def record_stop(self, ctx: Context) -> None:
        note_hooks_ran(ctx)
        record_main(ctx)

    def agent_path(self, tool_response: object) -> str | None:
        """``/root/NAME`` from spawn_agent's response (a JSON string or object)."""
        value: object = tool_response
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if isinstance(value, dict) and isinstance(value.get("task_name"), str):
            return str(value["task_name"])[:300]
        return None

    def refuse_agent(self, tool_input: dict[str, Any], model: str, handoff: dict[str, Any], why: str) -> dict[str, Any]:
        """Deny a spawn_agent call whose ``model`` is not the decided one, saying
        exactly how to re-issue it (Codex shows the model the reason)."""
        fixed = {k: v for k, v in tool_input.items() if k != "items"}
        fixed["model"] = model
        line = json.dumps(handoff, ensure_ascii=False)
        message = fixed.get("message")
        if isinstance(message, str) and line not in message:
            fixed["message"] = f"{line}\n\n{message}"
        reason = (
            f"tierwise: {why}. Call spawn_agent again with \"model\": \"{model}\" and put this model_tier "
            f"object on the first line of the message: {line}. The corrected call: "
            + json.dumps(fixed, ensure_ascii=False)
        )
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }

    def stop_message(self, text: str) -> dict[str, Any]:
        return {"systemMessage": text}


ADAPTER = CodexAdapter  # what tierwise.hot.hooks.adapter.get_adapter instantiates


# -- rollout files (hot: Stop and SubagentStop read them; `tierwise import codex` shares the rules) --------


def new_rollout_state() -> dict[str, Any]:
    """What a reader carries from line to line of one rollout file (JSON-serializable)."""
    return {"thread": None, "session": None, "agent_path": None, "history_start": 0, "model": None,
            "cwd": None, "last_total": None}


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        return 0
    return int(value)


def rollout_line(obj: dict[str, Any], st: dict[str, Any]) -> dict[str, Any] | None:
    """Feed one rollout line; a usage row (tokens, model, ids) when it is a new request.

    ``session_meta`` first names the file's thread (a later one heads the parent's
    history copied into a subagent's file: those lines, ordinal below
    ``subagent_history_start_ordinal``, are the parent's and never counted here);
    ``turn_context`` names the model; each ``token_count`` event whose running
    total moved is one request (``last_token_usage``: input including cached,
    output including reasoning)."""
    kind = obj.get("type")
    payload = obj.get("payload")
    if not isinstance(payload, dict):
        return None
    if kind == "session_meta":
        if st["thread"] is None:
            st["thread"] = payload.get("id") if isinstance(payload.get("id"), str) else None
            session = payload.get("session_id")
            st["session"] = session if isinstance(session, str) else st["thread"]
            st["cwd"] = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
            agent_path = payload.get("agent_path")
            st["agent_path"] = agent_path[:300] if isinstance(agent_path, str) and agent_path else None
            st["history_start"] = _count(payload.get("subagent_history_start_ordinal"))
        return None
    ordinal = obj.get("ordinal")
    if isinstance(ordinal, int) and ordinal < st["history_start"]:
        return None
    if kind == "turn_context":
        model = payload.get("model")
        if isinstance(model, str) and model:
            st["model"] = model[:200]
        return None
    if kind != "event_msg" or payload.get("type") != "token_count":
        return None
    info = payload.get("info")
    last = info.get("last_token_usage") if isinstance(info, dict) else None
    if not isinstance(last, dict) or "input_tokens" not in last or "output_tokens" not in last:
        return None
    total = info.get("total_token_usage") if isinstance(info, dict) else None
    if total is not None and total == st["last_total"]:
        return None  # the running total did not move: no new request
    st["last_total"] = total
    prompt = _count(last.get("input_tokens"))
    cached = min(_count(last.get("cached_input_tokens")), prompt)
    stamp = obj.get("timestamp")
    thread = st["thread"] or ""
    return {
        "model": st["model"],
        "input": prompt - cached,
        "output": _count(last.get("output_tokens")),
        "reasoning": _count(last.get("reasoning_output_tokens")),
        "cache_read": cached,
        "cache_write_5m": 0,
        "cache_write_1h": 0,
        "timestamp": stamp if isinstance(stamp, str) else None,
        "message_id": f"{thread}:{ordinal}" if isinstance(ordinal, int) else None,
        "request_id": thread or None,
    }


def read_rollout(path: str, offset: int = 0, carried: dict[str, Any] | None = None,
                 limit: int = 64 * 1024 * 1024) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """Usage rows of the complete lines from ``offset`` (keyed as the importer keys
    them), the new offset, and the reader state to carry to the next call."""
    import os
    import zlib

    st = dict(carried) if carried else new_rollout_state()
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        inode = os.fstat(fh.fileno()).st_ino
        if offset > size:
            offset, st = 0, new_rollout_state()  # truncated or replaced
        fh.seek(offset)
        data = fh.read(limit)
    rows: list[dict[str, Any]] = []
    pos = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        line = data[pos:nl]
        line_offset = offset + pos
        pos = nl + 1
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        row = rollout_line(obj, st)
        if row is not None:
            crc = zlib.crc32(line.rstrip(b"\r"))
            row["source_key"] = f"{path}:{inode}:{line_offset}:{crc:08x}"
            rows.append(row)
    return rows, offset + pos, st


# -- SubagentStop / Stop: the rollouts' usage into the ledger --------------------------------------------------

TOKEN_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def _ledger_rows(ctx: Context, rows: list[dict[str, Any]], *, skill: str | None, run_id: str | None,
                 agent_id: str | None, origin: str) -> list[dict[str, Any]]:
    from tierwise.hot.hooks import records

    out = []
    for r in rows:
        out.append({
            "client": "codex",
            "model": r.get("model"),
            "tier": records.tier_of_model(ctx, r.get("model")),
            **{k: int(r.get(k) or 0) for k in TOKEN_KEYS},
            "session_id": ctx.session_id,
            "project": ctx.project,
            "skill": skill,
            "agent_id": agent_id,
            "run_id": run_id,
            "timestamp": r.get("timestamp") or ctx.timestamp,
            "source": "hook",
            "message_id": r.get("message_id"),
            "request_id": r.get("request_id"),
            "source_key": r.get("source_key"),
            "origin": origin,
        })
    return out


def _read_new(ctx: Context, path: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """New usage rows of a rollout since the last look (cursor in the session state,
    under its lock, so two hooks never read the same bytes twice)."""
    from tierwise.hot.hooks import state

    def change(st: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        cursors = st.setdefault("rollouts", {})
        cursor = cursors.get(path) if isinstance(cursors.get(path), dict) else {}
        raw = cursor.get("offset")
        offset = raw if isinstance(raw, int) else 0
        carried = cursor.get("reader") if isinstance(cursor.get("reader"), dict) else None
        try:
            rows, new_offset, reader = read_rollout(path, offset, carried)
        except OSError:
            return [], carried or new_rollout_state()
        cursors[path] = {**cursor, "offset": new_offset, "reader": reader}
        return rows, reader

    try:
        result = state.update(ctx.session_id, change)
    except state.Busy:
        return [], new_rollout_state()  # the session lock is held too long: the next hook reads these lines
    if not isinstance(result, tuple):
        return [], new_rollout_state()
    rows, reader = result
    return rows, reader


def _agent_run(ctx: Context, agent_path: str | None) -> dict[str, Any] | None:
    """The run the spawn_agent call that started ``agent_path`` left (PostToolUse)."""
    if not agent_path:
        return None
    from tierwise.hot.hooks import state

    table = state.read(ctx.session_id).get("agents")
    run = table.get(agent_path) if isinstance(table, dict) else None
    return dict(run) if isinstance(run, dict) else None


def remember_agent(ctx: Context, agent_path: str, pending: dict[str, Any]) -> None:
    """PostToolUse(spawn_agent): the agent's name -> its run (skill, tier, run id); rows
    its SubagentStop recorded before (the subagent can finish first) join the run now."""
    from tierwise.hot.hooks import state

    run = {k: pending.get(k) for k in ("run_id", "skill", "tier", "model", "preferred", "reason", "ts")}

    # journaled when the session's lock is busy; state._prune keeps the newest 200
    ctx.state_apply([{"set": [["agents", agent_path], run]}], f"the spawned agent {agent_path}")
    from tierwise.hot.hooks import deferred

    # a ledger write: after the answer (CodexAdapter.after_answer); the next hook's drain waits for it
    if not deferred.defer(ctx, "adapter", {"what": "link_agent_rows", "agent_path": agent_path, "run": run}):
        link_agent_rows(ctx, agent_path, run)


def _usage_line(ctx: Context, run: dict[str, Any] | None, agent_path: str | None,
                tokens: dict[str, int], model: str | None) -> None:
    from tierwise.hot.hooks.tools import model_mismatch

    skill = run.get("skill") if run else None
    run_id = run.get("run_id") if run else None
    total = sum(tokens.values())
    line = (f"[USAGE] {skill or '(no skill)'} run {run_id or agent_path or '?'}: {total} tokens (input "
            f"{tokens['input']}, output {tokens['output']}, cache read {tokens['cache_read']}) on "
            f"{model or 'a model the client did not report'}")
    note = model_mismatch(ctx, run, model)
    ctx.audit(line + ("\n" + note if note else ""))


def link_agent_rows(ctx: Context, agent_path: str, run: dict[str, Any]) -> None:
    """Give the rows recorded for ``agent_path`` before its run was known that run
    (skill and run id), and say them in the audit."""
    if not run.get("run_id"):
        return
    from tierwise.hot.ledger import db

    agent_id = f"{ctx.session_id}:{agent_path}"[:400]

    def tx(c: Any) -> list[Any]:
        found = c.execute("SELECT model, input, output, cache_write_5m, cache_write_1h, cache_read FROM usage "
                          "WHERE client = 'codex' AND agent_id = ? AND run_id IS NULL", (agent_id,)).fetchall()
        if found:
            c.execute("UPDATE usage SET run_id = ?, skill = COALESCE(skill, ?) WHERE client = 'codex' "
                      "AND agent_id = ? AND run_id IS NULL", (run["run_id"], run.get("skill"), agent_id))
        return list(found)

    found = db.write(ctx.conn, tx)
    if found:
        tokens = {k: sum(int(row[i + 1] or 0) for row in found) for i, k in enumerate(TOKEN_KEYS)}
        model = next((row[0] for row in reversed(found) if row[0]), None)
        _usage_line(ctx, run, agent_path, tokens, model)


def record_subagent(ctx: Context, path: str) -> None:
    """A subagent's rollout: its new requests, attributed to its spawn call's run
    (when PostToolUse has not named the agent yet, they join it then); the audit
    says when it ran on another model than decided."""
    from tierwise.hot.ledger import record

    rows, reader = _read_new(ctx, path)
    agent_path = reader.get("agent_path")
    run = _agent_run(ctx, agent_path)
    if not rows:
        return
    agent_id = f"{ctx.session_id}:{agent_path}"[:400] if agent_path else None
    skill = run.get("skill") if run else None
    run_id = run.get("run_id") if run else None
    record.record_usage(_ledger_rows(ctx, rows, skill=skill, run_id=run_id, agent_id=agent_id,
                                     origin="subagent_transcript"), ctx.config)
    if run_id:
        model = next((r["model"] for r in reversed(rows) if r.get("model")), None)
        tokens = {k: sum(int(r.get(k) or 0) for r in rows) for k in TOKEN_KEYS}
        _usage_line(ctx, run, agent_path, tokens, model)


def record_main(ctx: Context) -> None:
    """Stop: the main rollout's new requests, and any late lines of the subagents'
    rollouts read before (a subagent's last line may land after its SubagentStop)."""
    from tierwise.hot.hooks import state, transcript
    from tierwise.hot.ledger import record

    path = transcript.allowed(ctx.payload.get("transcript_path"))
    if path:
        rows, _reader = _read_new(ctx, path)
        if rows:
            active = _active_skill(ctx)
            record.record_usage(_ledger_rows(ctx, rows, skill=active.get("skill"), run_id=active.get("run_id"),
                                             agent_id=None, origin="session_transcript"), ctx.config)

    cursors = state.read(ctx.session_id).get("rollouts")
    others = [p for p in cursors if p != path] if isinstance(cursors, dict) else []
    for other in others if isinstance(others, list) else []:
        if transcript.allowed(other):
            record_subagent(ctx, other)

    table = state.read(ctx.session_id).get("agents")
    for agent_path, run in (table.items() if isinstance(table, dict) else []):
        if isinstance(run, dict):
            link_agent_rows(ctx, agent_path, run)


def _active_skill(ctx: Context) -> dict[str, Any]:
    from tierwise.hot.hooks import state

    active = state.read(ctx.session_id).get("active_skill")
    return dict(active) if isinstance(active, dict) else {}


# -- hook trust: what `tierwise verify` reminds of ---------------------------------------------------------------

RAN_FILE = "codex-hooks-ran.json"


def hooks_files(project: str) -> list[str]:
    """The hooks files Codex reads that may hold tierwise's entries: the project's
    ``.codex/hooks.json`` and ``$CODEX_HOME/hooks.json`` (``~/.codex/hooks.json``)."""
    import os

    codex_home = os.environ.get("CODEX_HOME") or os.path.join(os.path.expanduser("~"), ".codex")
    return [os.path.join(project, ".codex", "hooks.json"), os.path.join(codex_home, "hooks.json")]


def holds_our_hooks(path: str) -> bool:
    """Whether a hooks file holds a tierwise entry (read by `tierwise verify`, never by a hook)."""
    try:
        with open(path, "rb") as fh:
            return b"tierwise" in fh.read(4 * 1024 * 1024)
    except OSError:
        return False


def note_hooks_ran(ctx: Context) -> None:
    """Codex ran this hook for the project, so it trusts the hooks as they are now:
    remember when (``tierwise verify`` stops reminding the user to trust them
    until a hooks file changes again). Reads no file of the project."""
    import os
    import time

    from tierwise.hot import fileio, paths

    record = os.path.join(paths.state_dir(), RAN_FILE)
    try:
        with open(record, encoding="utf-8") as fh:
            seen = json.loads(fh.read())
    except (OSError, ValueError):
        seen = {}
    if not isinstance(seen, dict):
        seen = {}
    seen[ctx.project] = time.time()
    if len(seen) > 500:
        for stale in sorted(seen, key=lambda k: float(seen[k]) if isinstance(seen[k], (int, float)) else 0)[:100]:
            seen.pop(stale, None)
    paths.ensure_state_dir()
    fileio.atomic_write(record, json.dumps(seen, sort_keys=True), fsync=False)


def untrusted_hooks(project: str) -> list[str]:
    """Hooks files holding tierwise's entries that Codex has not run for ``project``
    since they last changed (a user-level file: for any project)."""
    import os

    from tierwise.hot import paths

    try:
        with open(os.path.join(paths.state_dir(), RAN_FILE), encoding="utf-8") as fh:
            seen = json.loads(fh.read())
    except (OSError, ValueError):
        seen = {}
    if not isinstance(seen, dict):
        seen = {}
    runs = [float(v) for v in seen.values() if isinstance(v, (int, float))]
    project_file, user_file = hooks_files(project)
    out = []
    for path, ran in ((project_file, seen.get(project)), (user_file, max(runs) if runs else None)):
        if not holds_our_hooks(path):
            continue
        try:
            changed = os.stat(path).st_mtime
        except OSError:
            continue
        if not isinstance(ran, (int, float)) or ran < changed:
            out.append(path)
    return out
