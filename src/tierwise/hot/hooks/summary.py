"""The §5.2 session summary: built from the ledger, rendered as plain text.

``build(conn, session_id, config, platform)`` is shared by the Stop/SessionEnd
hooks (hot: stdlib + sqlite) and ``tierwise summary`` (which renders it with
rich, ``tierwise.render.summary``). Tokens and cost come from the ``usage``
rows of the session (the client's own numbers); the requested tier from the
session's last decision per skill.

Hot module.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

MAIN = "(main conversation)"
TOKEN_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def latest_session(conn: sqlite3.Connection) -> str | None:
    row = conn.execute(
        "SELECT session_id FROM (SELECT session_id, MAX(ts) AS t FROM usage WHERE session_id IS NOT NULL GROUP BY session_id "
        "UNION ALL SELECT session_id, MAX(ts) FROM decisions WHERE session_id IS NOT NULL GROUP BY session_id) "
        "ORDER BY t DESC LIMIT 1"
    ).fetchone()
    return str(row[0]) if row else None


def _blank_tokens() -> dict[str, int]:
    return {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "total": 0}


def build(
    conn: sqlite3.Connection,
    session_id: str,
    config: dict[str, Any] | None,
    platform: str,
    budget: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from tierwise.hot.ledger import pricing

    skills: dict[str, dict[str, Any]] = {}
    order: list[str] = []

    def slot(name: str) -> dict[str, Any]:
        if name not in skills:
            skills[name] = {
                "skill": name,
                "model_requested": None,
                "model_used": None,
                "models_used": [],
                "runs": 0,
                "tokens": _blank_tokens(),
                "cost_usd": 0.0,
                "cost_known": True,
                "if_opus": 0.0,
                "if_sonnet": 0.0,
            }
            order.append(name)
        return skills[name]

    runs: list[tuple[str, str | None, str, str | None, str | None]] = []  # (skill, run, asked, tool, platform)
    enforcement_by_run: dict[str, tuple[str, str | None]] = {}
    for skill, tier, blocked, run_id, tool, decided_on, enforcement, note in conn.execute(
        "SELECT skill, tier, blocked, run_id, tool, platform, enforcement, enforcement_note FROM decisions "
        "WHERE session_id = ? ORDER BY ts, rowid",
        (session_id,),
    ):
        entry = slot(skill or MAIN)
        asked = "blocked" if blocked else tier
        if asked:
            entry.setdefault("_requested", [])
            if asked not in entry["_requested"]:
                entry["_requested"].append(asked)
            runs.append((entry["skill"], run_id, asked, tool, decided_on))
        if enforcement in ("enforced", "advisory"):
            entry.setdefault("_enforcement", {})[enforcement] = note
            if run_id:
                enforcement_by_run[run_id] = (enforcement, note)
    names = [t.get("name") for t in (config or {}).get("tiers") or [] if isinstance(t, dict)]
    opus = "opus" if "opus" in names else (names[-1] if names else "opus")
    sonnet = "sonnet" if "sonnet" in names else None
    comparable = True
    priced_sources: set[str] = set()
    rows = conn.execute(
        "SELECT skill, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, cost_usd, price_source, run_id, "
        "provisional FROM usage WHERE session_id = ? ORDER BY ts, id",
        (session_id,),
    ).fetchall()
    runs_seen: dict[str, set[str]] = {}
    used_by_run: dict[str, list[tuple[str, str | None]]] = {}  # run -> (label, model) of its requests
    # skill -> the same, for requests tied to no decision (an import names the skill and the
    # transcript's own call id, which need not be the id the hook saw)
    unlinked: dict[str, list[tuple[str, str | None]]] = {}
    decided_runs = {run for _, run, _, _, _ in runs if run}
    provisional = {"requests": 0, "total": 0}
    for skill, model, tier, i, o, w5, w1, r, cost, source, run_id, kind in rows:
        if kind is not None:
            provisional["requests"] += 1
            provisional["total"] += (i or 0) + (o or 0) + (w5 or 0) + (w1 or 0) + (r or 0)
        entry = slot(skill or MAIN)
        tokens = {"input": i or 0, "output": o or 0, "cache_write_5m": w5 or 0, "cache_write_1h": w1 or 0, "cache_read": r or 0}
        t = entry["tokens"]
        t["input"] += tokens["input"]
        t["output"] += tokens["output"]
        t["cache_read"] += tokens["cache_read"]
        t["cache_write"] += tokens["cache_write_5m"] + tokens["cache_write_1h"]
        t["total"] += sum(tokens.values())
        label = tier or model
        if label and label not in entry["models_used"]:
            entry["models_used"].append(label)
        if run_id:
            runs_seen.setdefault(entry["skill"], set()).add(run_id)
        if label:
            used = (used_by_run.setdefault(run_id, []) if run_id in decided_runs
                    else unlinked.setdefault(entry["skill"], []))
            if (label, model) not in used:
                used.append((label, model))
        if cost is None:
            entry["cost_known"] = False
        else:
            entry["cost_usd"] += float(cost)
            if source:
                priced_sources.add(str(source).split(":")[0])
        day = None
        for target, key in ((opus, "if_opus"), (sonnet, "if_sonnet")):
            if target is None:
                comparable = False
                continue
            value, _ = pricing.cost_as_tier(target, tokens, config=config, platform=platform, day=day)
            if value is None:
                comparable = False
            else:
                entry[key] += value
    out_skills = []
    totals = _blank_tokens()
    total_cost = 0.0
    cost_known = True
    if_opus = if_sonnet = 0.0
    for name in order:
        e = skills[name]
        e["runs"] = len(runs_seen.get(name, ()))
        e["model_used"] = "+".join(e.pop("models_used")) or None
        e["model_requested"] = "+".join(e.pop("_requested", [])) or None
        e["enforcement"], e["enforcement_note"] = enforcement_of(e.pop("_enforcement", None))
        if not e.pop("cost_known"):
            e["cost_usd"] = None
            cost_known = False
        else:
            e["cost_usd"] = round(e["cost_usd"], 6)
            total_cost += e["cost_usd"]
        if_opus += e.pop("if_opus")
        if_sonnet += e.pop("if_sonnet")
        for k in totals:
            totals[k] += e["tokens"][k]
        out_skills.append(e)
    savings: dict[str, Any] = {"if_all_opus": None, "if_all_sonnet": None, "actual": None, "saved_vs_opus_pct": None,
                               "opus_premium_vs_sonnet": None, "pricing_source": ", ".join(sorted(priced_sources)) or None}
    if cost_known:
        savings["actual"] = round(total_cost, 6)
        if comparable and rows:
            savings["if_all_opus"] = round(if_opus, 6)
            savings["if_all_sonnet"] = round(if_sonnet, 6)
            savings["saved_vs_opus_pct"] = round((if_opus - total_cost) / if_opus * 100, 1) if if_opus else None
            savings["opus_premium_vs_sonnet"] = round(total_cost - if_sonnet, 6)
    return {
        "session_id": session_id,
        "platform": platform,
        "skills": out_skills,
        "notes": difference_notes(runs, used_by_run, names, platform, unlinked, enforcement_by_run),
        "totals": {**totals, "cost_usd": round(total_cost, 6) if cost_known else None},
        "savings": savings,
        "budget": _budget_summary(budget),
        "provisional": provisional,
    }


def provisional_line(summary: dict[str, Any]) -> str | None:
    """A note when some of the session's tokens are still a hook's provisional figure."""
    late = summary.get("provisional") or {}
    if not late.get("requests"):
        return None
    return (f"{late['total']:,} tokens ({late['requests']} requests) are the client's own figure until their "
            "transcript lines are written (the next Stop or `tierwise import` replaces them)")


# the tools a decision of an inline skill is recorded under: Claude Code's and Qwen
# Code's skill tool, and "prompt" for a skill the prompt names (Codex CLI's $skill)
_INLINE_TOOLS = ("Skill", "skill", "prompt")
_CLIENT = {"claude_code": "Claude Code", "qwen_code": "Qwen Code", "codex": "Codex CLI"}


def difference_notes(
    runs: list[tuple[str, str | None, str, str | None, str | None]],
    used_by_run: dict[str, list[tuple[str, str | None]]],
    tier_names: list[Any],
    platform: str,
    unlinked: dict[str, list[tuple[str, str | None]]] | None = None,
    enforcement: dict[str, tuple[str, str | None]] | None = None,
) -> list[dict[str, Any]]:
    """Why a skill ran on another tier than the one tierwise decided, in plain words:
    one note per skill and kind of difference (``{"skill", "requested", "used", "why"}``).

    ``runs``: (skill, run_id, decided tier or "blocked", tool, platform) per decision;
    ``used_by_run``: run_id -> (tier or model, model) of the requests recorded for it;
    ``enforcement``: run_id -> (enforced | advisory, the note the hook recorded: how the
    tier was applied, or why not), which says it best when it is there;
    ``unlinked``: skill -> the same for its requests tied to no decision (an import of
    a transcript that names the skill, not the call): a difference only when the
    decided tier is not among them."""
    notes: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for skill, run_id, asked, tool, decided_on in runs:
        status, note = (enforcement or {}).get(run_id or "", ("", None))
        used = used_by_run.get(run_id or "", [])
        labels = [label for label, _ in used]
        if not used:
            labels = [label for label, _ in (unlinked or {}).get(skill, [])]
            if asked in labels:
                continue
        if not labels or labels == [asked]:
            continue
        client = _CLIENT.get(decided_on or platform, "the client")
        shown = "+".join(labels)
        unknown = [label for label in labels if label not in tier_names]
        if asked == "blocked":
            kind, why = "blocked", (f"the budget blocked it, yet {client} ran it on {shown} (the block was "
                                    "overridden or came too late; see `tierwise audit`)")
        elif tool in _INLINE_TOOLS and note:
            kind = f"inline-{status}"
            why = (f"{client} ran it on {shown}; its tier was advisory: {note}" if status == "advisory" else
                   f"{client} ran it on {shown} although tierwise applied {asked} ({note})")
        elif tool in _INLINE_TOOLS:
            kind = "inline"
            why = (f"an inline skill runs in the main conversation on the session's model ({shown}), so "
                   f"{client} took the tier {asked} as advice (docs/hooks.md, \"Enforced or advice\")")
        elif (decided_on or platform) == "codex" and status == "advisory" and note:
            kind = "subagent-advisory"  # a spawn let through after its refusals
            why = f"{client} ran the subagent on {shown}; its tier was advisory: {note}"
        elif (decided_on or platform) == "qwen_code":
            kind = "qwen-subagent"
            why = (f"{client} ran the subagent on {shown}: a hook cannot set a Qwen subagent's model, so {asked} "
                   "was advice to the coordinator; `tierwise install --platform qwen --agent-definitions` "
                   "enforces it for handoffs with subagent_type set to the skill")
        else:
            kind = "subagent"
            why = (f"{client} ran the subagent on {shown} although the hook set {asked} (a later hook or the "
                   "user's settings changed the model; see `tierwise audit`)")
        if unknown:
            why += f"; {', '.join(unknown)} is no tier's model in the routing config"
        if (skill, kind) in seen:
            continue
        seen.add((skill, kind))
        notes.append({"skill": skill, "requested": asked, "used": shown, "why": why})
    return notes


def note_lines(summary: dict[str, Any]) -> list[str]:
    """The notes under the summary table: why requested and used tiers differ."""
    lines = []
    for note in summary.get("notes") or []:
        lines.append(f"  {note['skill']}: requested {note['requested']}, used {note['used']}: {note['why']}")
    return lines


def enforcement_of(seen: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """``(enforced | advisory | mixed | None, the note)`` of a skill's decisions
    (``{status: latest note}``); the note says why when any run was advisory."""
    if not seen:
        return None, None
    if "advisory" in seen:
        return ("mixed" if "enforced" in seen else "advisory"), seen["advisory"]
    return "enforced", seen.get("enforced")


def enforcement_lines(summary: dict[str, Any]) -> list[str]:
    """Per skill: whether its tier was enforced, and how or why not."""
    rows = [r for r in summary.get("skills") or [] if r.get("enforcement")]
    if not rows:
        return []
    word = {"enforced": "enforced", "advisory": "advisory", "mixed": "partly advisory"}
    return [f"  {r['skill']}: {word.get(str(r['enforcement']), r['enforcement'])}"
            + (f" — {r['enforcement_note']}" if r.get("enforcement_note") else "") for r in rows]


def _budget_summary(budget: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(budget, dict):
        return {"zone": None, "binding": None, "weekly_opus_pct": None, "session_pct": None}
    weekly_opus = session = None
    for item in budget.get("budgets") or []:
        if not isinstance(item, dict) or item.get("share") is None:
            continue
        if item.get("window") == "weekly" and str(item.get("key", "")).startswith("opus"):
            weekly_opus = max(weekly_opus or 0.0, float(item["share"]))
        if item.get("window") == "session":
            session = max(session or 0.0, float(item["share"]))
    binding = budget.get("binding")
    return {
        "zone": budget.get("zone"),
        "binding": binding.get("label") if isinstance(binding, dict) else None,
        "weekly_opus_pct": None if weekly_opus is None else round(weekly_opus * 100, 1),
        "session_pct": None if session is None else round(session * 100, 1),
    }


def money(value: float | None) -> str:
    if value is None:
        return "unknown"
    from tierwise.hot.money import usd

    return usd(value)


def savings_lines(summary: dict[str, Any]) -> list[str] | None:
    """The body of §5.2's "Routing savings"; None when a cost is unknown.
    Shared by the plain-text summary (hooks) and the rich one (CLI)."""
    sav = summary.get("savings") or {}
    if sav.get("if_all_opus") is None or sav.get("actual") is None:
        return None
    pct = sav.get("saved_vs_opus_pct")
    lines = [
        f"  If all opus:   {money(sav['if_all_opus'])}  → actual: {money(sav['actual'])}"
        + (f" → saved: {pct:.1f}%" if pct is not None else "")
    ]
    if sav.get("if_all_sonnet") is not None:
        lines.append(
            f"  If all sonnet: {money(sav['if_all_sonnet'])}  → actual: {money(sav['actual'])}"
            f" → opus premium: {money(sav.get('opus_premium_vs_sonnet'))}"
        )
    if sav.get("pricing_source"):
        lines.append(f"  prices: {sav['pricing_source']}")
    return lines


def budget_lines(summary: dict[str, Any]) -> list[str]:
    """The body of §5.2's "Budget status"."""
    budget = summary.get("budget") or {}
    if budget.get("weekly_opus_pct") is not None:
        lines = [f"  Weekly opus: {budget['weekly_opus_pct']:.0f}% consumed ({budget.get('zone')} zone)"]
    else:
        lines = [f"  Zone: {budget.get('zone') or 'unknown'}" + (f" ({budget['binding']})" if budget.get("binding") else "")]
    if budget.get("session_pct") is not None:
        lines.append(f"  Session: {budget['session_pct']:.0f}% of its allocation")
    return lines


def render_text(summary: dict[str, Any]) -> str:
    """The §5.2 layout in plain text (no colour): for the hook's systemMessage."""
    rows = summary.get("skills") or []
    width = max([len("Skill")] + [len(str(r["skill"])) for r in rows] + [len("Total")]) + 2
    models = [str(r.get("model_used") or r.get("model_requested") or "-") for r in rows]
    model_width = max([len("Model")] + [len(m) for m in models]) + 1  # never cut: "opus+sonnet"
    totals = summary.get("totals") or {}
    costs = [money(r.get("cost_usd")) for r in rows] + [money(totals.get("cost_usd"))]
    cost_width = max([len("Cost")] + [len(c) for c in costs]) + 2
    rule = "━" * (width + model_width + 10 + cost_width)
    thin = "─" * len(rule)
    lines = ["Session Token Summary", rule,
             f"{'Skill':<{width}}{'Model':<{model_width}}{'Tokens':>10}{'Cost':>{cost_width}}", thin]
    for r, model, cost in zip(rows, models, costs):
        lines.append(f"{str(r['skill']):<{width}}{model:<{model_width}}{r['tokens']['total']:>10,}{cost:>{cost_width}}")
    lines.append(thin)
    lines.append(f"{'Total':<{width}}{'':<{model_width}}{int(totals.get('total') or 0):>10,}{costs[-1]:>{cost_width}}")
    notes = note_lines(summary)
    if notes:
        lines += ["", "Why requested and used differ:", *notes]
    savings = savings_lines(summary)
    if savings is not None:
        lines += ["", "Routing savings:", *savings]
    elif totals.get("cost_usd") is None:
        lines.append("")
        lines.append("Routing savings: unknown (a model without a known price; see `tierwise report`)")
    tiers = enforcement_lines(summary)
    if tiers:
        lines += ["", "Tiers:", *tiers]
    lines += ["", "Budget status:", *budget_lines(summary)]
    note = provisional_line(summary)
    if note:
        lines += ["", note]
    warnings = [w for w in summary.get("warnings") or [] if isinstance(w, str)]
    if warnings:
        lines += ["", "Warnings (left out of routing until fixed; `tierwise validate` lists them all):",
                  *(f"- {w}" for w in warnings)]
    return "\n".join(lines)
