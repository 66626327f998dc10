"""PreToolUse / PostToolUse / PostToolUseFailure on skill, subagent and file-write tools.

Skill load: decide the skill's tier, record the decision and its [ROUTE]
lines, and tell the model (Claude Code: PreToolUse context; Qwen Code ignores
that, so the message waits in the session state and goes out with PostToolUse,
which Qwen appends to the tool result). A coordinator also gets every
specialist's current tier, one JSON object per line.

Subagent start: find the skill the handoff is for, decide, and on Claude Code
rewrite the call (``model`` = the tier's alias, the handoff object prepended to
the prompt). Qwen Code cannot be rewritten: the decision is recorded and the
tier reaches the work through the coordinator's context (see docs/hooks.md).

Subagent end: the client's own usage becomes the ledger's usage row and §5.1
record; a model different from the decision is said in the audit.

Hot module.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os

from tierwise.hot.hooks import records
from tierwise.hot.hooks.runtime import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _handoff(decision: dict[str, Any]) -> dict[str, Any]:
    return {"model_tier": decision.get("tier"), "reason": decision.get("reason")}


def _option_lines(decision: dict[str, Any]) -> list[str]:
    """The §2.3 step-4/5 options, numbered; [] when the decision offers none.

    A blocked decision carries them, and so does one that is not blocked (a
    high-reasoning-demand skill held at its preferred tier in the yellow zone
    is offered a cheaper tier): either way the model must pass them on."""
    options = [opt for opt in decision.get("options") or [] if isinstance(opt, str)]
    if not options:
        return []
    return ["Options:", *(f"  {i}. {opt}" for i, opt in enumerate(options, 1))]


def _blocked_reason(decision: dict[str, Any]) -> str:
    lines = [f"tierwise: {decision.get('skill')} is blocked by the budget: {decision.get('reason')}"]
    lines.extend(_option_lines(decision))
    return "\n".join(lines)


def _decide(ctx: Context, entry: dict[str, Any], tool: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Decide and build the decision record; :func:`_record` appends the [ROUTE]
    lines and writes it once its enforcement is known."""
    decision = ctx.decide(entry)
    route = ctx.render_route(decision)
    run_id = ctx.run_id()
    return decision, run_id, records.decision_record(ctx, decision, run_id, tool, route)


def _record(ctx: Context, rec: dict[str, Any], enforcement: dict[str, Any] | None, *, defer: bool = False) -> None:
    """Note how the tier is applied, append the [ROUTE] lines to the audit log,
    and record the decision.

    ``defer``: the decision record rides in the session state with the pending
    run and reaches the ledger with the run's PostToolUse (or the next Stop,
    or ``tierwise audit``), keeping SQLite writes off PreToolUse. Decisions are
    upserted by run id, so recording one twice is harmless.
    """
    if enforcement is not None:
        rec["enforcement"] = enforcement.get("status")
        rec["enforcement_note"] = enforcement.get("note")
        rec["route"] = (rec.get("route") or "").rstrip("\n") + "\n" + enforcement_line(enforcement)
    ctx.audit(rec.get("route") or "")
    if not defer or not ctx.tool_use_id:
        records.write_decision(rec)


def enforcement_line(enforcement: dict[str, Any]) -> str:
    """The [ROUTE] line that says how the tier is applied."""
    return f"  → Enforcement: {enforcement.get('status')} — {enforcement.get('note')}"


def _decide_and_record(
    ctx: Context, entry: dict[str, Any], tool: str, *, defer: bool = False
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    decision, run_id, rec = _decide(ctx, entry, tool)
    _record(ctx, rec, _inline_enforcement(ctx, entry, decision) if not decision.get("blocked") else None, defer=defer)
    return decision, run_id, rec


def _inline_enforcement(ctx: Context, entry: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    from tierwise.hot.routing.enforcement import inline_mode

    mode, source = inline_mode(entry, ctx.config)
    return ctx.adapter.inline_enforcement(ctx.project, ctx.session, entry, decision, mode, source)


def _pending(
    ctx: Context, run_id: str, decision: dict[str, Any], kind: str, rec: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "decision_record": rec,
        "run_id": run_id,
        "kind": kind,
        "skill": decision.get("skill"),
        "tier": decision.get("tier"),
        "model": decision.get("model"),
        "preferred": decision.get("preferred"),
        "reason": decision.get("reason"),
        "ts": ctx.timestamp,
        **extra,
    }


def specialist_lines(ctx: Context, entry: dict[str, Any]) -> list[str]:
    """One ``{"skill", "model_tier", "reason"}`` JSON line per specialist of a coordinator."""
    lines = []
    for name in entry.get("specialists") or []:
        spec = ctx.skill(name) if isinstance(name, str) else None
        if spec is None:
            lines.append(json.dumps({"skill": name, "model_tier": None, "reason": "not found in the skill roots"}))
            continue
        decision = ctx.decide(spec)
        reason = decision.get("reason") or ""
        if decision.get("blocked"):
            reason = "blocked: " + reason
        if decision.get("options"):
            reason += " Options: " + "; ".join(str(opt) for opt in decision["options"])
        lines.append(json.dumps({"skill": spec["name"], "model_tier": decision.get("tier"), "reason": reason}, ensure_ascii=False))
    return lines


def skill_message(ctx: Context, entry: dict[str, Any], decision: dict[str, Any],
                  enforcement: dict[str, Any] | None = None) -> str:
    tier, model = decision.get("tier"), decision.get("model")
    head = f"[tierwise] skill {entry['name']}: tier {tier}" + (f" ({model})" if model else "")
    out = [head + f" — {decision.get('reason')}"]
    if enforcement and enforcement.get("redirect"):
        out.append(f"Enforced: the skill runs as a forked subagent on {model or tier} ({enforcement['redirect']}); "
                   "it sees its instructions, the user's request and this message, not the conversation, and its "
                   "result comes back as the tool result.")
    elif enforcement and enforcement.get("status") == "enforced":
        out.append(f"Enforced: {enforcement.get('note')}.")
    elif enforcement:
        out.append(f"Advisory (you run it on the session's model): {enforcement.get('note')}.")
    for warning in decision.get("warnings") or []:
        out.append(f"warning: {warning}")
    if decision.get("options"):
        out.append("Tell the user these options before going on:")
        out.extend(_option_lines(decision))
    if entry.get("role") == "coordinator" and entry.get("specialists"):
        out.append(
            "Specialist tiers right now, one JSON object per line. Put "
            '{"model_tier": ..., "reason": ...} from the specialist\'s line into every handoff, '
            "and name the skill's path (skills/NAME/SKILL.md) in the subagent prompt:"
        )
        out.extend(specialist_lines(ctx, entry))
        if not ctx.adapter.enforces_subagent_model:
            names = [n for n in entry["specialists"] if isinstance(n, str)]
            defined = ctx.adapter.defined_agents(ctx.project, names)
            if defined:
                out.append(
                    "Start " + ", ".join(defined) + " with subagent_type set to the skill's name: its agent "
                    "definition runs it on the model of its tier (tierwise sets it for each handoff)."
                )
            if len(defined) < len(names):
                out.append(
                    "This client cannot set a subagent's model per call: for "
                    + ("the other specialists" if defined else "these specialists")
                    + " the tier in the handoff is advice the specialist follows (its procedure scales to the tier)."
                )
    return "\n".join(out)


# -- PreToolUse ---------------------------------------------------------------


def pre_tool(ctx: Context) -> dict[str, Any] | None:
    kind = ctx.adapter.tool_kind(ctx.tool_name)
    tool_input = ctx.payload.get("tool_input")
    if kind == "skill":
        entry = ctx.skill(ctx.adapter.skill_from_input(tool_input))
        return _pre_skill(ctx, entry) if entry else None
    if kind == "agent" and isinstance(tool_input, dict):
        from tierwise.hot.hooks.handoff import find_target

        found = find_target(ctx.adapter.handoff_input(tool_input), ctx.skill)
        if not found:
            return None
        if ctx.adapter.enforces_by_refusal:
            refusal = _refuse_other_model(ctx, tool_input, found[0])
            if refusal is not None:
                return refusal
        return _pre_agent(ctx, tool_input, *found)
    return None


def _refusal_key(ctx: Context, tool_input: dict[str, Any], skill: str) -> str:
    task = tool_input.get("task_name")
    return f"{skill}|{task if isinstance(task, str) else ''}"[:400]


def _refuse_other_model(ctx: Context, tool_input: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    """Codex CLI: the client runs a subagent on the ``model`` its spawn call names
    and ignores a rewritten input, so a call naming another model than the
    decided one is refused with the exact call to make instead. After
    ``MAX_REFUSALS`` refusals of the same handoff the call goes through and the
    decision is recorded as advisory (the audit says so). None: let it through."""
    from tierwise.hot import tiers

    decision = ctx.decide(entry)
    tier = decision.get("tier")
    if decision.get("blocked") or not tiers.is_tier(ctx.config, tier):
        return None
    model = tiers.model_for(ctx.config, str(tier), ctx.adapter.platform)
    asked = ctx.adapter.requested_model(tool_input)
    key = _refusal_key(ctx, tool_input, entry["name"])
    if not model or asked == model:
        def forget(st: dict[str, Any]) -> None:
            refusals = st.get("refusals")
            if isinstance(refusals, dict):
                refusals.pop(key, None)

        counted = ctx.session.get("refusals")
        if isinstance(counted, dict) and key in counted:  # no refusal to forget (the usual case): no write
            ctx.state_update(forget, "the refusal count")
        return None
    limit = ctx.adapter.max_refusals

    def count(st: dict[str, Any]) -> int:
        refusals = st.setdefault("refusals", {})
        seen = int(refusals.get(key) or 0)
        if seen < limit:
            refusals[key] = seen + 1
        return seen

    _, seen = ctx.state_update(count, "the refusal count")  # busy: counted as a first refusal
    seen = seen if isinstance(seen, int) else 0
    if seen >= limit:
        ctx.audit(f"[ROUTE-ADVISORY] {entry['name']}: decided {tier} ({model}) but the spawn call still names "
                  f"{asked or 'no model'} after {limit} refusals; let through, the tier is advisory for this handoff")
        return None
    why = (f"skill {entry['name']} runs on tier {tier} ({model}) — {decision.get('reason')}; this call "
           + (f"names model {asked}" if asked else "names no model (the subagent would inherit the session's)"))
    ctx.audit(f"[ROUTE-REFUSED] {entry['name']}: spawn call {ctx.tool_use_id or '?'} names "
              f"{asked or 'no model'}, decided {tier} ({model}); refusal {seen + 1} of {limit}")
    return ctx.adapter.refuse_agent(tool_input, model, _handoff(decision), why)


MAX_FORK_ARGS = 8000


def _pre_skill(ctx: Context, entry: dict[str, Any]) -> dict[str, Any] | None:
    decision, run_id, rec = _decide(ctx, entry, ctx.tool_name or "skill")
    if decision.get("blocked"):
        _record(ctx, rec, None)
        return ctx.adapter.block(ctx.payload, _blocked_reason(decision))
    enforcement = _inline_enforcement(ctx, entry, decision)
    _record(ctx, rec, enforcement, defer=True)
    message = skill_message(ctx, entry, decision, enforcement)
    pending = _pending(ctx, run_id, decision, "skill", rec, enforcement=enforcement.get("status"))
    target = enforcement.get("redirect")
    if isinstance(target, str):
        pending["fork_copy"] = target
    if not ctx.adapter.pre_tool_context_reaches_model:
        pending["message"] = message  # delivered by PostToolUse
    _remember(ctx, pending)
    if isinstance(target, str):
        tool_input = ctx.payload.get("tool_input")
        args = tool_input.get("args") if isinstance(tool_input, dict) else None
        if not isinstance(args, str) or not args.strip():
            # a forked skill sees its instructions and its args, not the conversation: give it the request
            args = ctx.request_text().strip()[:MAX_FORK_ARGS]
        # ... and its tier (a specialist scales its procedure to it; a coordinator gets its specialists' lines)
        args = f"{args}\n\n{message}" if args else message
        answer = ctx.adapter.redirect_skill(target, args, message)
        if answer is not None:
            return answer
    return ctx.adapter.context("PreToolUse", message)


def _pre_agent(ctx: Context, tool_input: dict[str, Any], entry: dict[str, Any], how: str) -> dict[str, Any] | None:
    decision, run_id, rec = _decide(ctx, entry, ctx.tool_name or "agent")
    if decision.get("blocked"):
        _record(ctx, rec, None)
        return ctx.adapter.block(ctx.payload, _blocked_reason(decision))
    from tierwise.hot import tiers

    tier = decision.get("tier")
    alias = pinned = None
    if tier and ctx.adapter.enforces_by_refusal and tiers.is_tier(ctx.config, tier):
        model = tiers.model_for(ctx.config, tier, ctx.adapter.platform)
        asked = ctx.adapter.requested_model(tool_input)
        if model and asked == model:
            pinned = model  # the spawn call names the decided model: Codex runs it there
    elif tier and ctx.adapter.enforces_subagent_model:
        from tierwise.clients.claude.hook import alias_for  # only Claude Code has model aliases

        alias = alias_for(tier, tiers.model_for(ctx.config, tier, "claude_code") if tiers.is_tier(ctx.config, tier) else None)
    elif tier and how == "subagent_type" and tiers.is_tier(ctx.config, tier):
        model = tiers.model_for(ctx.config, tier, ctx.adapter.platform)
        if ctx.adapter.pin_by_definition(ctx.project, entry["name"], model):
            pinned = model
    _record(ctx, rec, _handoff_enforcement(ctx, tier, alias, pinned), defer=True)
    context = f"[tierwise] subagent for skill {entry['name']} (found by {how}): tier {tier}"
    context += f", model {alias}" if alias else ""
    if pinned and ctx.adapter.enforces_by_refusal:
        context += f", model {pinned}"
    elif pinned:
        context += f", model {pinned} (set in its agent definition)"
    context += f" — {decision.get('reason')}"
    options = _option_lines(decision)
    if options:
        context += "\nTell the user these options:\n" + "\n".join(options)
    extra: dict[str, Any] = {"alias": alias, "found_by": how, "pinned_model": pinned}
    if options and not ctx.adapter.pre_tool_context_reaches_model:
        extra["message"] = context  # the coordinator hears it with the agent's PostToolUse
    _remember(ctx, _pending(ctx, run_id, decision, "agent", rec, **extra))
    return ctx.adapter.rewrite_agent(tool_input, alias, _handoff(decision), context)


def _handoff_enforcement(ctx: Context, tier: Any, alias: str | None, pinned: str | None) -> dict[str, Any]:
    from tierwise.hot.routing.enforcement import ADVISORY, ENFORCED, result

    if alias:
        return result(ENFORCED, f"subagent model set to {alias}")
    if pinned and ctx.adapter.enforces_by_refusal:
        return result(ENFORCED, f"the spawn call names {pinned} (refused until it does)")
    if pinned:
        return result(ENFORCED, f"its agent definition runs the subagent on {pinned}")
    if ctx.adapter.enforces_subagent_model:
        return result(ADVISORY, f"tier {tier} has no Claude Code model alias to set")
    if ctx.adapter.enforces_by_refusal:
        return result(ADVISORY, f"the spawn call still named another model than tier {tier}'s after "
                      f"{ctx.adapter.max_refusals} refusals and was let through, so the tier was advice")
    return result(ADVISORY, f"{ctx.adapter.label} cannot set this subagent's model (no agent definition of the "
                  "skill's name, or subagent_type is not the skill's name): the tier in the handoff is advice")


MAX_SKILL_CALLS = 200


def _remember(ctx: Context, pending: dict[str, Any]) -> None:
    if not ctx.tool_use_id:
        return
    called = ctx.adapter.skill_from_input(ctx.payload.get("tool_input")) if ctx.adapter.name == "qwen" else None
    ops: list[dict[str, Any]] = [{"set": [["pending", ctx.tool_use_id], pending]}]
    if pending["kind"] == "skill":
        ops.append({"set": [["active_skill"], {"skill": pending["skill"], "run_id": pending["run_id"],
                                               "ts": pending["ts"]}]})
    if called:
        # Qwen Code's transcript names this call by another id: Stop pairs them in order
        ops.append({"append": [["skill_calls"], {"name": called, "run_id": pending["run_id"]}, MAX_SKILL_CALLS]})
    ctx.state_apply(ops, f"the decision for {pending.get('skill')} (run {pending.get('run_id')})")


def _take(ctx: Context, write: bool = True) -> dict[str, Any] | None:
    """Pop the run PreToolUse left for this tool call; record its decision unless
    the caller records it together with the run (``write=False``)."""
    if not ctx.tool_use_id:
        return None
    value = ctx.state_take(["pending", ctx.tool_use_id], "the decision waiting for this tool call")
    if not isinstance(value, dict):
        return None
    if write and isinstance(value.get("decision_record"), dict):
        _write_decision_later(ctx, value.pop("decision_record"))
    return value


def _write_decision_later(ctx: Context, rec: dict[str, Any]) -> None:
    """Record a decision after the answer (``hot.hooks.deferred``): the ledger write
    is no part of what the client waits for."""
    from tierwise.hot.hooks import deferred

    if not deferred.defer(ctx, "decision", {"record": rec}):
        records.write_decision(rec)


# -- PostToolUse --------------------------------------------------------------


def post_tool(ctx: Context) -> dict[str, Any] | None:
    kind = ctx.adapter.tool_kind(ctx.tool_name)
    if kind == "skill":
        return _post_skill(ctx)
    if kind == "agent":
        return _post_agent(ctx)
    if kind == "write":
        from tierwise.hot.hooks.skill_write import check_written_skill

        return check_written_skill(ctx)
    return None


def _post_skill(ctx: Context) -> dict[str, Any] | None:
    response = ctx.payload.get("tool_response")
    forked = isinstance(response, dict) and response.get("status") == "forked" and isinstance(
        response.get("agentId"), str)
    pending = _take(ctx, write=not forked)
    if forked:
        assert isinstance(response, dict)
        from tierwise.hot.hooks import deferred

        agent_id = str(response["agentId"])
        # its transcript is read and recorded after the answer
        if not deferred.defer(ctx, "fork", {"pending": pending, "agent_id": agent_id}):
            record_fork(ctx, pending, agent_id)
        return None
    if ctx.adapter.pre_tool_context_reaches_model:
        return None  # already told at PreToolUse
    message = pending.get("message") if pending else None
    if not message:
        # PreToolUse did not run for this call (no tool_use_id, or another hook set): decide now.
        name = ctx.adapter.skill_from_input(ctx.payload.get("tool_input")) or ctx.adapter.skill_from_response(
            ctx.payload.get("tool_response")
        )
        entry = ctx.skill(name)
        if entry is None:
            return None
        decision, _, rec = _decide_and_record(ctx, entry, ctx.tool_name or "skill")
        if decision.get("blocked"):
            message = _blocked_reason(decision)
        else:
            enforcement = {"status": rec.get("enforcement"), "note": rec.get("enforcement_note")}
            message = skill_message(ctx, entry, decision, enforcement if rec.get("enforcement") else None)
    return ctx.adapter.context("PostToolUse", str(message))


def _fork_skill(ctx: Context, pending: dict[str, Any] | None) -> str | None:
    """The skill a forked Skill call ran: from PreToolUse, else from the copy's marker."""
    if pending and isinstance(pending.get("skill"), str):
        return str(pending["skill"])
    name = ctx.adapter.skill_from_input(ctx.payload.get("tool_input"))
    if not name:
        return None
    from tierwise.clients.claude import forks

    info = forks.read_copy(os.path.join(forks.skills_dir(ctx.project), name, "SKILL.md"))
    return info["of"] if info else None


def record_fork(ctx: Context, pending: dict[str, Any] | None, agent_id: str) -> None:
    """A skill that ran forked (Claude Code ``context: fork``): its requests are a
    subagent's, in ``<session>/subagents/agent-<id>.jsonl``; they are the skill's.
    Lines not on disk yet at PostToolUse are read by the next Stop
    (``hot.ledger.settle``)."""
    from tierwise.hot.hooks import transcript
    from tierwise.hot.hooks.adapter import empty_usage
    from tierwise.hot.ledger import settle

    skill = _fork_skill(ctx, pending)
    run = dict(pending or {})
    run_id = str(run.setdefault("run_id", ctx.run_id()))
    path = transcript.agent_transcript_path(ctx.payload.get("transcript_path"), ctx.session_id, agent_id)
    rows, size = transcript.read_agent_rows(path) if path else ([], 0)
    usage = empty_usage()
    usage["agent_id"] = agent_id
    if rows:
        rec = records.record_run_usage(ctx, run, usage, skill, rows=rows)
        tokens = rec["tokens"]
        model = rec["model_used"].get("id")
        note = model_mismatch(ctx, pending, model)
        ctx.audit(f"[USAGE] {skill or '(no skill)'} run {rec['run_id']} (forked): {tokens['total']} tokens "
                  f"(input {tokens['input']}, output {tokens['output']}, cache read {tokens['cache_read']}, "
                  f"cache write {tokens['cache_write']}) on {model or 'a model the transcript does not name'}"
                  + ("\n" + note if note else ""))
    elif isinstance(run.get("decision_record"), dict):
        records.write_decision(run["decision_record"])
    response = ctx.payload.get("tool_response")
    expect = transcript.result_tail(response.get("result") if isinstance(response, dict) else None)
    # remembered until its transcript holds the final response (Stop, SessionEnd; else `tierwise import`)
    settle.remember(ctx, run_id, {"client": "claude", "run": settle.run_fields(run, run_id), "skill": skill,
                                  "usage": usage, "provisional": None, "agent_id": agent_id, "size": size,
                                  "fork": {"expect": expect, "complete": transcript.fork_complete(rows, expect)}})


def _post_agent(ctx: Context) -> dict[str, Any] | None:
    usage = ctx.adapter.agent_usage(ctx.payload.get("tool_response"))
    pending = _take(ctx, write=False)
    # Qwen Code: the options offered at PreToolUse reach the coordinator here
    message = pending.get("message") if pending else None
    answer = ctx.adapter.context("PostToolUse", message) if isinstance(message, str) and message else None
    has_tokens = usage is not None and (usage["total"] > 0 or usage.get("model_used"))
    if (usage is None or not has_tokens) and pending and isinstance(pending.get("decision_record"), dict):
        _write_decision_later(ctx, pending.pop("decision_record"))
    if pending:
        ctx.adapter.agent_started(ctx, pending)  # Codex CLI: its usage arrives with SubagentStop
    if usage is None:
        return answer
    if not has_tokens:
        # launched in the background: its tokens arrive with SubagentStop
        if usage.get("agent_id") and pending:
            agent_id = usage["agent_id"]
            ctx.state_apply([{"set": [["background", agent_id], pending]}],
                            f"the background agent {agent_id} (its tokens arrive with SubagentStop)")
        return answer
    from tierwise.hot.hooks import deferred

    # the transcript read and the ledger write happen after the answer (hot.hooks.deferred)
    if not deferred.defer(ctx, "agent", {"pending": pending}):
        finish_agent(ctx, pending, usage)
    return answer


def finish_agent(ctx: Context, pending: dict[str, Any] | None, usage: dict[str, Any]) -> None:
    """Record a finished subagent (its transcript's requests, else the client's
    figure as a provisional row) and say it in the audit log."""
    skill = pending.get("skill") if pending else None
    rec = _record_agent_usage(ctx, pending, usage, skill)
    note = model_mismatch(ctx, pending, usage.get("model_used"))
    tokens = rec["tokens"]
    line = (
        f"[USAGE] {skill or '(no skill)'} run {rec['run_id']}: {tokens['total']} tokens "
        f"(input {tokens['input']}, output {tokens['output']}, cache read {tokens['cache_read']}, "
        f"cache write {tokens['cache_write']}) on {usage.get('model_used') or 'a model the client did not report'}"
    )
    if rec.get("source") != "transcript":
        line += ("; provisional: the transcript does not hold the client's figure yet "
                 "(replaced when the next Stop or `tierwise import` reads it)")
    ctx.audit(line + ("\n" + note if note else ""))


def _record_agent_usage(
    ctx: Context, pending: dict[str, Any] | None, usage: dict[str, Any], skill: str | None
) -> dict[str, Any]:
    """Record a finished subagent's usage: its requests from the transcript, and
    what the client's payload says the transcript does not hold yet as a
    provisional row, which the transcript's rows replace later (the next Stop,
    or `tierwise import`). Never waits for the client to finish writing."""
    from tierwise.hot.hooks import transcript

    rows: list[dict[str, Any]] = []
    kind = None
    late: dict[str, Any] = {}
    if ctx.adapter.name == "qwen":
        path = transcript.allowed(ctx.payload.get("transcript_path"))
        response = ctx.payload.get("tool_response")
        display = response.get("returnDisplay") if isinstance(response, dict) else None
        summary = display.get("executionSummary") if isinstance(display, dict) else None
        if path and isinstance(summary, dict):
            rows = transcript.qwen_subagent_rows(path, summary, usage.get("agent_id"))
        if not rows and usage["total"] > 0:
            kind = "all_requests"  # executionSummary: every round of the subagent
            late = {"summary": summary if isinstance(summary, dict) else {}}
    else:
        agent_id = usage.get("agent_id")
        path = transcript.agent_transcript_path(ctx.payload.get("transcript_path"), ctx.session_id, agent_id) \
            if agent_id else None
        size = 0
        if path:
            rows, size = transcript.read_agent_rows(path)
        if usage["total"] > 0 and not transcript.holds_request(rows, usage):
            kind = "last_request"  # tool_response.usage: the subagent's last request
            late = {"agent_id": agent_id, "size": size}
        elif usage["total"] > 0:
            transcript.complete_last_request(rows, usage)
    rec = records.record_run_usage(ctx, pending, usage, skill, rows=rows, provisional=kind)
    if kind and (ctx.adapter.name == "qwen" or late.get("agent_id")):
        from tierwise.hot.ledger import settle

        run = settle.run_fields(pending, rec["run_id"])
        settle.remember(ctx, rec["run_id"], {"client": ctx.adapter.name, "run": run, "skill": skill,
                                             "usage": usage, "provisional": kind, **late})
    return rec


def model_mismatch(ctx: Context, pending: dict[str, Any] | None, model_used: str | None) -> str | None:
    """An audit line when the model the client ran differs from the decision."""
    if not pending or not model_used or not pending.get("tier"):
        return None
    used_tier = records.tier_of_model(ctx, model_used)
    if used_tier == pending.get("tier"):
        return None
    return (
        f"[ROUTE-MISMATCH] {pending.get('skill')}: decided {pending.get('tier')}"
        f" ({pending.get('model') or pending.get('alias')}) but the client ran {model_used}"
        f" (tier {used_tier or 'unknown'})"
    )


def post_tool_failure(ctx: Context) -> dict[str, Any] | None:
    pending = _take(ctx)
    if pending:
        error = ctx.payload.get("error")
        detail = error[:300] if isinstance(error, str) else "the tool call failed"
        ctx.audit(f"[FAILED] {pending.get('skill')} run {pending.get('run_id')}: {detail}")
        copy = pending.get("fork_copy")
        if isinstance(copy, str) and copy in detail:
            # Claude Code did not know the copy after all: the next calls run inline instead of failing again
            def change(st: dict[str, Any]) -> None:
                forks = st.get("forks")
                if isinstance(forks, dict):
                    copies = forks.get("copies")
                    if isinstance(copies, dict):
                        copies.pop(copy, None)
                    refused = forks.setdefault("refused", [])
                    if isinstance(refused, list) and copy not in refused:
                        refused.append(copy)

            ctx.state_update(change, "forgetting the forked copy")  # busy: the next failure says it again
    return None
