"""UserPromptSubmit: the §3.3 inline overrides, kept for the session.

Qwen Code also fires UserPromptSubmit for every subagent, with an empty
prompt: those never touch the session's overrides or its request text.

Hot module.
"""

from __future__ import annotations

from tierwise.hot.hooks import state
from tierwise.hot.hooks.runtime import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_PROMPT_CHARS = 20_000


def _describe(ov: dict[str, Any]) -> list[str]:
    out = []
    if ov.get("force_model"):
        out.append(f"every skill on {ov['force_model']}")
    for skill, tier in sorted((ov.get("skill_models") or {}).items()):
        out.append(f"{skill} on {tier}")
    if ov.get("prompt_model"):
        out.append(f"skills of this request on {ov['prompt_model']}")
    if ov.get("ignore_minimum"):
        out.append("skill minimums ignored (quality may degrade)")
    return out


def _inline_skill(ctx: Context, text: str) -> None:
    """A skill the prompt invokes inline (Codex CLI's ``$NAME``): decide its tier,
    record the decision and make it the session's active skill, so the requests
    that follow (read from the transcript at Stop) count under it."""
    names = ctx.adapter.skills_named_in_prompt(text, ctx.skill_names())
    entry = ctx.skill(names[0]) if names else None
    if entry is None:
        return
    from tierwise.hot.hooks import records

    from tierwise.hot.routing.enforcement import inline_mode

    decision = ctx.decide(entry)
    route = ctx.render_route(decision)
    # how the tier applies: the skill runs in the main conversation (recorded with the decision)
    enforcement = ctx.adapter.inline_enforcement(ctx.project, ctx.session, entry, decision,
                                                 *inline_mode(entry, ctx.config))
    route = route.rstrip("\n") + f"\n  → Enforcement: {enforcement.get('status')} — {enforcement.get('note')}"
    turn = ctx.payload.get("turn_id")
    run_id = f"{ctx.session_id}:{turn}" if isinstance(turn, str) and turn else ctx.run_id()
    ctx.audit(route)
    rec = records.decision_record(ctx, decision, run_id, "prompt", route)
    rec["enforcement"], rec["enforcement_note"] = enforcement.get("status"), enforcement.get("note")
    records.write_decision(rec)

    active = {"skill": entry["name"], "run_id": run_id, "ts": ctx.timestamp}
    ctx.state_apply([{"set": [["active_skill"], active]}], f"the active skill {entry['name']}")


def user_prompt(ctx: Context) -> dict[str, Any] | None:
    prompt = ctx.payload.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return None
    text = prompt[:MAX_PROMPT_CHARS]
    from tierwise.hot.routing.overrides import merge, parse_prompt

    found = parse_prompt(text, ctx.skill_names(), tuple(ctx.tier_names()) or ("haiku", "sonnet", "opus"))

    after = ctx.state_apply([{"merge_overrides": {"prompt": text, "found": found}}], "the prompt's inline overrides")
    _inline_skill(ctx, text)
    said = _describe(found)
    if not said:
        return None
    if after is None:  # journaled (or lost): what the session will hold once it is applied
        after = state.read(ctx.session_id)
    merged = after.get("overrides")
    if not isinstance(merged, dict):
        merged = merge(None, found)
    ctx.audit("[OVERRIDE] " + "; ".join(said) + f" (session now: {'; '.join(_describe(merged)) or 'none'})")
    return ctx.adapter.context(
        "UserPromptSubmit", "[tierwise] inline model override noted for this session: " + "; ".join(said) + "."
    )
