"""The routing decision: which tier a skill runs at, and why (docs/routing.md).

``decide`` is pure: plain dicts in (skill block, resolved config, overrides,
budget state, request text), a decision dict out. No I/O, no clock; the same
inputs always give the same decision. Precedence (spec §1.3): user explicit
override > skill minimum > budget > skill preferred > session default >
platform default. Every step consulted is listed in ``steps``, highest
precedence first.

The decision is a pipeline: ``initial_state`` reads the arguments into a state
dict, each function in ``STEPS`` (in that order) reads the state and returns
only the keys it changes, and ``to_decision`` turns the final state into the
decision dict. A step never changes the state it is given (its lists are
tuples), so each one can be run and tested alone.

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

from tierwise.hot import tiers as _tiers
from tierwise.hot.routing import conditions as _conditions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypedDict

    class State(TypedDict, total=False):
        """What the steps read and write. ``initial_state`` sets every key;
        a step returns only the keys it changes."""

        # the arguments, normalized (no step changes these)
        ctx: _Ctx
        skill: str
        block: dict[str, Any] | None  # as given, before the project override
        role: str
        platform: str
        request_text: str
        overrides: dict[str, Any]
        budget: dict[str, Any]
        session: dict[str, Any]
        defaults: dict[str, Any]
        exhausted: list[str]
        entries: list[dict[str, Any]]  # the budget entries (dicts only)
        reserve: dict[str, Any]  # config priority_reserve
        reserved_demands: Any  # the reasoning demands the priority reserve is kept for
        ignore_minimum: bool
        ignore_said: object  # the user's words for ignore minimum
        # set by the steps
        mode: str
        mode_source: str
        blk: dict[str, Any] | None  # the block with the project override, checked
        project_reason: str | None
        zone: str
        binding: str | None  # the binding budget's label
        user_tier: str | None  # the user override in force (None once refused)
        user_override: dict[str, Any] | None  # the decision's user_override record
        refused_upgrade: str
        base: str | None  # preferred after the conditions
        hold_floor: str | None  # the target of a matched hold_at
        cond_head: str  # the condition that moved the tier, for the reason
        triggers: dict[str, tuple[str, ...]] | None
        tier: str | None
        head: str  # the reason (before "blocked: ")
        blocked_why: str
        model: str | None
        steps: tuple[dict[str, Any], ...]  # in the order consulted; sorted by to_decision
        warnings: tuple[str, ...]
        options: tuple[str, ...]

    Step = Callable[[State], State]

MODES = ("off", "auto", "aggressive")
DEMANDS = ("low", "medium", "high", "variable")
ROLES = ("coordinator", "specialist")
ZONES = ("green", "yellow", "red")
PLATFORM_NAMES = {"claude_code": "Claude Code", "qwen_code": "Qwen Code", "codex": "Codex"}
BLOCK_KEYS = (
    "preferred", "acceptable", "minimum", "allow_upgrade", "allow_downgrade",
    "reasoning_demand", "estimated_tokens", "conditions",
)
# Steps are listed highest precedence first; a refusal follows the step it
# refuses, the hard cap follows the budget, conditions follow preferred.
STEP_ORDER = {
    "user_override": 0, "allow_upgrade": 1, "minimum": 2, "budget": 3, "allow_downgrade": 4,
    "hard_cap": 5, "preferred": 6, "condition": 7, "session_default": 8, "platform_default": 9,
}
EXPORT_OPTION = "export the context (a summary of the work so far) and continue in a new session"


def decide(
    skill_name: str,
    block: dict[str, Any] | None,
    role: str,
    config: dict[str, Any],
    overrides: dict[str, Any] | None,
    budget: dict[str, Any] | None,
    request_text: str = "",
    platform: str = "claude_code",
) -> dict[str, Any]:
    """The decision for one skill run. See docs/routing.md for every rule."""
    state = initial_state(skill_name, block, role, config, overrides, budget, request_text, platform)
    for step in STEPS:
        state.update(step(state))
    return to_decision(state)


def initial_state(
    skill_name: str,
    block: dict[str, Any] | None,
    role: str,
    config: dict[str, Any],
    overrides: dict[str, Any] | None,
    budget: dict[str, Any] | None,
    request_text: str = "",
    platform: str = "claude_code",
) -> State:
    """The arguments normalized, and every key a step sets at its neutral value."""
    ctx = _Ctx(config)
    overrides = overrides if isinstance(overrides, dict) else {}
    budget = budget if isinstance(budget, dict) else {}
    session = config.get("session") if isinstance(config.get("session"), dict) else {}
    defaults = config.get("defaults") if isinstance(config.get("defaults"), dict) else {}
    reserve = config.get("priority_reserve") if isinstance(config.get("priority_reserve"), dict) else {}
    assert isinstance(session, dict) and isinstance(defaults, dict) and isinstance(reserve, dict)
    said = overrides.get("source_text")
    return {
        "ctx": ctx,
        "skill": skill_name,
        "block": block,
        "role": role if role in ROLES else "specialist",
        "platform": _tiers.canonical_platform(platform) or platform,
        "request_text": request_text if isinstance(request_text, str) else "",
        "overrides": overrides,
        "budget": budget,
        "session": session,
        "defaults": defaults,
        "exhausted": [t for t in (budget.get("exhausted_tiers") or []) if ctx.ok(t)],
        "entries": [e for e in (budget.get("budgets") or []) if isinstance(e, dict)],
        "reserve": reserve,
        "reserved_demands": reserve.get("reasoning_demand") or ["high"],
        "ignore_minimum": bool(overrides.get("ignore_minimum")) or bool(session.get("ignore_minimum")),
        "ignore_said": said.get("ignore_minimum") if isinstance(said, dict) else None,
        "mode": "auto",
        "mode_source": "built-in default",
        "blk": None,
        "project_reason": None,
        "zone": budget["zone"] if budget.get("zone") in ZONES else "green",
        "binding": _label(budget.get("binding")),
        "user_tier": None,
        "user_override": None,
        "refused_upgrade": "",
        "base": None,
        "hold_floor": None,
        "cond_head": "",
        "triggers": None,
        "tier": None,
        "head": "",
        "blocked_why": "",
        "model": None,
        "steps": (),
        "warnings": (),
        "options": (),
    }


def to_decision(s: State) -> dict[str, Any]:
    """The decision dict (docs/ARCHITECTURE.md) of a final state."""
    blk = s["blk"]
    triggers = s["triggers"]
    decision: dict[str, Any] = {
        "skill": s["skill"],
        "tier": s["tier"],
        "model": s["model"],
        "blocked": False,
        "preferred": blk["preferred"] if blk else None,
        "minimum": blk["minimum"] if blk else None,
        "zone": s["zone"],
        "reason": s["head"],
        "steps": sorted(s["steps"], key=lambda st: STEP_ORDER.get(st["step"], 99)),
        "warnings": list(s["warnings"]),
        "options": list(s["options"]),
        "role": s["role"],
        "reasoning_demand": blk["reasoning_demand"] if blk else None,
        "mode": s["mode"],
        "binding": s["binding"],
        "user_override": s["user_override"],
        "triggers": {"upgrade": list(triggers["upgrade"]), "downgrade": list(triggers["downgrade"])}
        if triggers is not None else None,
        "platform": s["platform"],
    }
    if s["blocked_why"]:
        decision["tier"] = None
        decision["model"] = None
        decision["blocked"] = True
        decision["reason"] = f"blocked: {s['blocked_why']}"
        decision["wanted"] = s["tier"]
    return decision


# ------------------------------------------------------------------ the steps


def resolve_mode(s: State) -> State:
    """The conservation mode: the session's, else the config defaults', else auto."""
    mode = s["session"].get("conservation_mode")
    source = "session"
    if mode is None:
        mode, source = s["defaults"].get("conservation_mode"), "config defaults"
    if mode is None:
        mode, source = "auto", "built-in default"
    if mode not in MODES:
        return {
            "mode": "auto", "mode_source": "built-in default",
            "warnings": (*s["warnings"], f"conservation_mode {mode!r} is not one of off, auto, aggressive; using auto"),
        }
    return {"mode": mode, "mode_source": source}


def apply_project_override(s: State) -> State:
    """The skill's block with the project override (§3.2) applied and checked."""
    warnings = list(s["warnings"])
    blk, reason = _merge_block(s["ctx"], s["skill"], s["block"], warnings)
    return {"blk": blk, "project_reason": reason, "warnings": tuple(warnings)}


def pick_zone(s: State) -> State:
    """The reasoning demands the priority reserve is kept for see the zone of the
    whole budget (ledger.budget.state's priority_zone); the others keep the zone
    of the budget minus the reserve ("zone")."""
    blk, budget = s["blk"], s["budget"]
    if blk is not None and blk["reasoning_demand"] in s["reserved_demands"] and budget.get("priority_zone") in ZONES:
        return {"zone": budget["priority_zone"], "binding": _label(budget.get("priority_binding"))}
    return {}


def find_user_override(s: State) -> State:
    """Precedence 1: the user's explicit override, most specific first."""
    warnings = list(s["warnings"])
    tier, scope, said = _first_user_override(s["ctx"], s["skill"], s["overrides"], s["session"], warnings)
    if tier:
        return {
            "user_tier": tier,
            "user_override": {"tier": tier, "scope": scope, "text": said},
            "warnings": tuple(warnings),
            "steps": _add(s, "user_override", tier, scope + (f": \"{said}\"" if said else "")),
        }
    return {"warnings": tuple(warnings), "steps": _add(s, "user_override", None, "none")}


def refuse_upgrade(s: State) -> State:
    """allow_upgrade: false refuses a user override above preferred; the decision
    goes on as if there were none."""
    tier, blk, record = s["user_tier"], s["blk"], s["user_override"]
    if not (tier and blk and not blk["allow_upgrade"] and s["ctx"].r(tier) > s["ctx"].r(blk["preferred"])):
        return {}
    assert record is not None
    pref = blk["preferred"]
    return {
        "user_tier": None,
        "user_override": {**record, "refused": True},
        "refused_upgrade": f"user override {tier} refused (allow_upgrade: false, above preferred {pref})",
        "steps": _add(s, "allow_upgrade", pref, f"allow_upgrade: false refuses {tier}, above preferred {pref}"),
    }


def apply_minimum(s: State) -> State:
    """Precedence 2: the skill minimum. A user override below it is raised to it
    (unless the user said ignore minimum); without an override it is the floor
    of the budget and the conditions. Without a block there is none, and a user
    override is the tier."""
    blk, user = s["blk"], s["user_tier"]
    if blk is None:
        steps = _add(s, "minimum", None, "no model block: no minimum")
        if user is not None:
            return {"tier": user, "head": "user override, no model block", "steps": steps}
        return {"steps": steps}
    minimum = blk["minimum"]
    if user is None:
        return {"steps": _add(s, "minimum", minimum, "floor for the budget and conditions" + _project_note(s))}
    if s["ctx"].r(user) >= s["ctx"].r(minimum):
        return {"tier": user, "head": "user override, above minimum",
                "steps": _add(s, "minimum", minimum, f"override {user} is at or above the minimum")}
    if not s["ignore_minimum"]:
        return {"tier": minimum, "head": f"user override {user} below minimum, raised to minimum {minimum}",
                "steps": _add(s, "minimum", minimum, f"override {user} is below the minimum: raised to {minimum}")}
    said = f" (\"{s['ignore_said']}\")" if isinstance(s["ignore_said"], str) else ""
    return {
        "tier": user,
        "head": "user override, below minimum (ignore minimum): quality may degrade",
        "warnings": (*s["warnings"], f"quality warning: {s['skill']} runs at {user}, below its minimum {minimum}; "
                                     f"the user said ignore minimum{said}"),
        "steps": _add(s, "minimum", minimum, f"lifted: the user said ignore minimum{said}"),
    }


def apply_conditions(s: State) -> State:
    """The skill's conditions move its preferred tier (``base``): a matched
    hold_at raises it and holds it against yellow-zone downgrades, a matched
    downgrade_to lowers it (never below the minimum); hold_at wins. Evaluated
    before the budget, listed after preferred; not under a user override."""
    blk = s["blk"]
    if blk is None or s["user_tier"] is not None:
        return {}
    ctx = s["ctx"]
    pref, minimum = blk["preferred"], blk["minimum"]
    warnings = list(s["warnings"])
    holds: list[tuple[str, str]] = []
    downs: list[tuple[str, str]] = []
    for i, cond in enumerate(blk["conditions"]):
        target_key = "hold_at" if "hold_at" in cond else "downgrade_to" if "downgrade_to" in cond else None
        target = cond.get(target_key) if target_key else None
        if target_key is None or not ctx.ok(target):
            warnings.append(f"condition {i} of {s['skill']} ignored: it needs hold_at or downgrade_to naming a defined tier")
            continue
        assert isinstance(target, str)
        hit = _conditions.match(cond.get("when"), s["request_text"])
        if hit is None:
            continue
        (holds if target_key == "hold_at" else downs).append((target, hit))
    base = pref
    hold_floor: str | None = None
    cond_head = ""
    up: list[str] = []
    down: list[str] = []
    notes: list[tuple[object, str]] = []
    if holds:
        h, why = max(holds, key=lambda x: ctx.r(x[0]))
        hold_floor = h
        up.append(f"\"{why}\" → hold at {h}")
        if ctx.r(h) > ctx.r(base):
            base = h
            cond_head = f"condition hold_at {h} (\"{why}\")"
            notes.append((h, f"hold_at {h} matched \"{why}\": raised from {pref}"))
        else:
            notes.append((h, f"hold_at {h} matched \"{why}\": held against yellow-zone downgrades"))
        for d, dwhy in downs:
            notes.append((d, f"downgrade_to {d} matched \"{dwhy}\" but hold_at {h} takes precedence"))
    elif downs:
        d, why = max(downs, key=lambda x: ctx.r(x[0]))
        target = d if ctx.r(d) >= ctx.r(minimum) else minimum
        down.append(f"\"{why}\" → {target}")
        if ctx.r(target) < ctx.r(base):
            base = target
            cond_head = f"condition downgrade_to {target} (\"{why}\")"
            note = f"downgrade_to {d} matched \"{why}\": lowered to {target}"
            if target != d:
                note += f" (not below the minimum {minimum})"
            notes.append((target, note))
        else:
            notes.append((d, f"downgrade_to {d} matched \"{why}\": already at or below it"))
    elif blk["conditions"]:
        notes.append((None, "no condition matched the request"))
    return {
        "base": base,
        "hold_floor": hold_floor,
        "cond_head": cond_head,
        "triggers": {"upgrade": tuple(up), "downgrade": tuple(down)} if blk["conditions"] else None,
        "warnings": tuple(warnings),
        "steps": (*s["steps"], *({"step": "condition", "value": v, "note": n} for v, n in notes)),
    }


def apply_budget(s: State) -> State:
    """Precedence 3: the zone and the conservation mode move the tier down
    within acceptable, never below the minimum (allow_downgrade: false refuses;
    a high reasoning demand in yellow is held with an offer). A user override
    ranks above the budget; without a block only coordinators move."""
    blk, zone, mode = s["blk"], s["zone"], s["mode"]
    if s["user_tier"] is not None:
        return {"steps": _add(s, "budget", None, f"not applied: a user override ranks above the budget ({zone} zone)")}
    if blk is None:
        return _squeeze_coordinator(s)
    ctx = s["ctx"]
    minimum, acceptable, base = blk["minimum"], blk["acceptable"], s["base"]
    assert base is not None
    desired, why, offer = _budget_rule(s)
    tier = base
    note = why or f"{zone} zone: no downgrade"
    refused = ""
    budget_why = ""  # the zone/mode rule that moved the tier down
    triggers = s["triggers"]
    if desired is not None and ctx.r(desired) < ctx.r(base):
        new = _pick(ctx, acceptable, minimum, base, desired)
        if new == base:
            note = f"{why}: no acceptable tier below {base} at or above the minimum {minimum}"
        elif not blk["allow_downgrade"]:
            refused = f"allow_downgrade: false refuses the {_zone_word(zone, mode)} downgrade to {new}"
            note = f"{why}: {new} proposed"
        else:
            tier = new
            budget_why = why
            if triggers is not None:
                triggers = {**triggers, "downgrade": (*triggers["downgrade"], why.replace("→ minimum", f"→ {new}"))}
            note = f"{why}: {base} → {new}"
    elif desired is not None:
        note = f"{why}: no downgrade needed"
    steps = _add(s, "budget", tier if tier != base else None, f"{note} (mode {mode} from {s['mode_source']})")
    if refused:
        steps = (*steps, {"step": "allow_downgrade", "value": base, "note": refused})
    options = s["options"]
    if offer is not None:
        if blk["allow_downgrade"]:
            options = (*options,
                       f"accept {offer}: say \"use {offer}\" (quality impact: noticeable for a high reasoning demand skill)",
                       _pause_option(s["budget"]))
        else:
            offer = None
    head = _budget_reason(s, base, tier, budget_why, refused, offer)
    return {"tier": tier, "head": head, "triggers": triggers, "steps": steps, "options": options}


def note_preferred(s: State) -> State:
    """Precedence 4: the skill's preferred tier (the conditions and the budget
    started from it; a user override outranks it)."""
    blk = s["blk"]
    if blk is None:
        return {} if s["user_tier"] is not None else {"steps": _add(s, "preferred", None, "no model block")}
    why = "outranked by the user override" if s["user_tier"] is not None else "the skill's preferred tier"
    return {"steps": _add(s, "preferred", blk["preferred"], why + _project_note(s))}


def use_session_default(s: State) -> State:
    """Precedence 5, for a skill without a block: the session default by role."""
    if s["blk"] is not None or s["user_tier"] is not None:
        return {}
    role = s["role"]
    default = s["defaults"].get(role)
    if s["tier"] is not None:  # the budget moved a coordinator off its default
        return {"steps": _add(s, "session_default", default, f"defaults.{role}")}
    if s["ctx"].ok(default):
        assert isinstance(default, str)
        return {"tier": default, "head": f"no model block: session default for {role}s",
                "steps": _add(s, "session_default", default, f"defaults.{role}")}
    return {"steps": _add(s, "session_default", None, f"defaults.{role} is not set to a defined tier")}


def use_platform_default(s: State) -> State:
    """Precedence 6: nothing chose a tier, so the client keeps its own model."""
    if s["blk"] is not None or s["user_tier"] is not None or s["tier"] is not None:
        return {}
    name = PLATFORM_NAMES.get(s["platform"], s["platform"])
    return {"head": f"no model block and no session default: platform default ({name}'s own model)",
            "steps": _add(s, "platform_default", None, f"{name}'s own model: tierwise sets none")}


def step_down_exhausted(s: State) -> State:
    """An exhausted tier steps down to the most capable acceptable tier at or
    above the minimum that is not exhausted, or the decision is blocked (§2.3
    step 5)."""
    tier, blk, ctx, exhausted = s["tier"], s["blk"], s["ctx"], s["exhausted"]
    if tier is None or tier not in exhausted:
        return {}
    user_applied = s["user_tier"] is not None
    if blk is not None and not user_applied and s["mode"] != "off" and blk["allow_downgrade"]:
        for t in reversed(blk["acceptable"]):
            if ctx.r(t) < ctx.r(tier) and ctx.r(t) >= ctx.r(blk["minimum"]) and t not in exhausted:
                return {"tier": t, "head": f"{s['head']}; {tier} exhausted → {t}",
                        "steps": _add(s, "budget", t, f"{tier} is exhausted: stepped down to {t} within acceptable")}
    why_not = _no_step_down(
        user_applied, s["mode"], blk,
        f"no other acceptable tier at or above the minimum {blk['minimum']} is available" if blk else "",
    )
    blocked_why = f"{tier} is exhausted; {why_not}"
    return {
        "blocked_why": blocked_why,
        "steps": _add(s, "budget", None, f"blocked: {blocked_why}"),
        "options": _blocked_options(ctx, s["options"], _reset_text(s["budget"], tier), tier,
                                    blk["minimum"] if blk else None, exhausted, None),
    }


def check_hard_cap(s: State) -> State:
    """The upper token estimate × the safety margin must fit every budget that
    binds the tier (less the priority reserve for the demands it is not kept
    for); else step down to the most capable acceptable tier that fits, or
    block (seed 003)."""
    tier, blk, ctx = s["tier"], s["blk"], s["ctx"]
    if tier is None or s["blocked_why"] or blk is None:
        return {}
    total, inp, out = _estimate(blk.get("estimated_tokens"))
    caps = ctx.config.get("hard_caps") if isinstance(ctx.config.get("hard_caps"), dict) else {}
    assert isinstance(caps, dict)
    margin = caps.get("safety_margin", 1.3)
    margin = float(margin) if isinstance(margin, (int, float)) and not isinstance(margin, bool) else 1.3
    share = s["reserve"].get("share", 0.0)
    share = float(share) if isinstance(share, (int, float)) and not isinstance(share, bool) else 0.0
    reserve_share = share if blk["reasoning_demand"] not in s["reserved_demands"] else 0.0
    capped = [e for e in s["entries"]
              if isinstance(e.get("remaining"), (int, float)) and e.get("key") in ("tokens", "opus_tokens", "total_spend")]
    if total is None:
        return {"steps": _add(s, "hard_cap", None, "no estimated_tokens: nothing to check")}
    if not capped:
        return {"steps": _add(s, "hard_cap", None, "no budget with a remaining figure: nothing to check")}
    need = total * margin
    warnings = list(s["warnings"])
    fits, detail, failed = _check_cap(ctx, tier, need, inp, out, capped, reserve_share, warnings)
    reserve_note = f"; priority reserve {reserve_share:.0%} held back" if reserve_share else ""
    if fits:
        note = f"upper estimate {_fmt(total)} × {margin:g} = {_fmt(need)} tokens fits at {tier}"
        return {"warnings": tuple(warnings),
                "steps": _add(s, "hard_cap", None, note + (f" ({detail})" if detail else "") + reserve_note)}
    user_applied = s["user_tier"] is not None
    can_step = not user_applied and s["mode"] != "off" and blk["allow_downgrade"]
    fitted = None
    fit_lower: list[str] = []
    for t in reversed(ctx.order):
        if ctx.r(t) >= ctx.r(tier) or t in s["exhausted"]:
            continue
        ok, _, _ = _check_cap(ctx, t, need, inp, out, capped, reserve_share, warnings)
        if not ok:
            continue
        fit_lower.append(t)
        if fitted is None and can_step and t in blk["acceptable"] and ctx.r(t) >= ctx.r(blk["minimum"]):
            fitted = t
    if fitted is not None:
        return {"tier": fitted, "head": f"{s['head']}; hard cap: {detail} → {fitted}", "warnings": tuple(warnings),
                "steps": _add(s, "hard_cap", fitted,
                              f"{detail} (× {margin:g} safety margin){reserve_note}: stepped down to {fitted}")}
    why_not = _no_step_down(user_applied, s["mode"], blk, f"no acceptable tier at or above the minimum {blk['minimum']} fits")
    reset_at = failed.get("reset_at") if failed else None
    wait = f"wait for the budget to reset at {reset_at}" if isinstance(reset_at, str) else "wait for the budget to reset"
    return {
        "blocked_why": f"hard cap: {detail}; {why_not}",
        "warnings": tuple(warnings),
        "steps": _add(s, "hard_cap", None, f"blocked: {detail} (× {margin:g} safety margin){reserve_note}; {why_not}"),
        "options": _blocked_options(ctx, (*s["options"], f"run at {tier} anyway ({detail})"), wait, tier,
                                    blk["minimum"], s["exhausted"], fit_lower),
    }


def pick_model(s: State) -> State:
    """The tier's model id on the platform (none, with a warning, when the config has none)."""
    tier = s["tier"]
    if tier is None or s["blocked_why"]:
        return {}
    model = _tiers.model_for(s["ctx"].config, tier, s["platform"])
    if model is None:
        return {"warnings": (*s["warnings"], f"tier {tier} has no model id for {s['platform']} in the config tiers")}
    return {"model": model}


# The order the steps run in. It is not the precedence order: the budget and
# the conditions work from preferred and the minimum floors them, so the
# higher-precedence user override and minimum run first and the others only
# act when no higher step settled the tier; ``steps`` in the decision is
# sorted by precedence (STEP_ORDER).
STEPS: tuple[Step, ...] = (
    resolve_mode,
    apply_project_override,
    pick_zone,
    find_user_override,
    refuse_upgrade,
    apply_minimum,
    apply_conditions,
    apply_budget,
    note_preferred,
    use_session_default,
    use_platform_default,
    step_down_exhausted,
    check_hard_cap,
    pick_model,
)


# ------------------------------------------------------------------ helpers


def _add(s: State, step: str, value: object, note: str) -> tuple[dict[str, Any], ...]:
    """The state's steps with one more."""
    return (*s["steps"], {"step": step, "value": value, "note": note})


def _label(binding: object) -> str | None:
    return binding.get("label") if isinstance(binding, dict) and isinstance(binding.get("label"), str) else None


def _project_note(s: State) -> str:
    return f" (project override: {s['project_reason']})" if s["project_reason"] else ""


def _budget_rule(s: State) -> tuple[str | None, str, str | None]:
    """(the tier the zone/mode rule wants, the rule in words, a tier to offer)
    for a skill with a block and no user override."""
    blk, mode, zone, ctx = s["blk"], s["mode"], s["zone"], s["ctx"]
    assert blk is not None and s["base"] is not None
    minimum, demand, base, hold_floor = blk["minimum"], blk["reasoning_demand"], s["base"], s["hold_floor"]
    if mode == "off":
        return None, "conservation mode off", None
    if mode == "aggressive":
        return minimum, "conservation mode aggressive → minimum", None
    if zone == "red":
        return minimum, "red zone → minimum", None
    if zone != "yellow":
        return None, "", None
    desired: str | None = None
    offer: str | None = None
    ceiling = _analytic_tier(ctx)
    if s["role"] == "coordinator":
        desired, why = ctx.order[0], f"yellow zone, coordinator → {ctx.order[0]}"
    elif demand == "low":
        desired, why = minimum, "yellow zone, low reasoning demand → minimum"
    elif demand in ("medium", "variable") and not (demand == "variable" and hold_floor):
        desired, why = ceiling, f"yellow zone, {demand} reasoning demand → at most {ceiling}"
    elif demand == "high":
        why = "yellow zone, high reasoning demand held"
        offered = _pick(ctx, blk["acceptable"], minimum, base, ceiling)
        if offered != base and not hold_floor:
            offer = offered
    else:
        why = f"yellow zone, variable reasoning demand held by hold_at {hold_floor}"
    if desired is not None and hold_floor and ctx.r(desired) < ctx.r(hold_floor):
        desired = hold_floor if ctx.r(hold_floor) <= ctx.r(base) else base
        why += f" (held at {desired} by a matched hold_at)"
    return desired, why, offer


def _budget_reason(s: State, base: str, tier: str, budget_why: str, refused: str, offer: str | None) -> str:
    """The reason of a decision the budget step settled: what chose the tier
    (preferred or a condition), then what the budget did."""
    source = s["cond_head"] or "preferred model"
    zone, mode = s["zone"], s["mode"]
    if tier != base:
        head = f"budget downgrade from {base}: {budget_why}"
        if s["cond_head"]:
            head = f"{s['cond_head']}; {head}"
    elif refused:
        head = f"{source}, {refused}"
    elif offer is not None:
        head = f"{source}, high reasoning demand held in yellow zone; offer: {offer}"
    elif zone == "green" and mode != "aggressive":
        head = f"{source}, budget available"
    elif mode == "off":
        head = f"{source}, conservation mode off"
    else:
        head = f"{source}, no downgrade needed"
    return f"{s['refused_upgrade']}; {head}" if s["refused_upgrade"] else head


def _squeeze_coordinator(s: State) -> State:
    """The budget for a skill without a block: no minimum and no acceptable
    range, so it moves only coordinators (cascade step 1: to the cheapest tier)."""
    ctx, role, zone, mode = s["ctx"], s["role"], s["zone"], s["mode"]
    default = s["defaults"].get(role)
    cheapest = ctx.order[0]
    squeeze = role == "coordinator" and (mode == "aggressive" or (mode == "auto" and zone in ("yellow", "red")))
    if squeeze and ctx.ok(default) and default != cheapest:
        why = "conservation mode aggressive" if mode == "aggressive" else f"{zone} zone"
        return {"tier": cheapest, "head": f"budget downgrade from {default}: {why}, coordinator → {cheapest}",
                "steps": _add(s, "budget", cheapest, f"{why}, coordinator → {cheapest}")}
    return {"steps": _add(s, "budget", None, f"no model block: only coordinators are downgraded ({zone} zone, mode {mode})")}


def _fmt(n: float) -> str:
    return f"{int(round(n)):,}"


def _money(x: float) -> str:
    return f"${x:,.2f}"


class _Ctx:
    """Everything one decision reads, checked once."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.order = _tiers.names(config)

    def ok(self, t: object) -> bool:
        return isinstance(t, str) and t in self.order

    def r(self, t: str) -> int:
        return self.order.index(t)


def _merge_block(
    ctx: _Ctx, skill: str, block: dict[str, Any] | None, warnings: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    """The skill's block with the project override (§3.2) applied; and the
    override's reason (None when there is no override)."""
    overrides = ctx.config.get("overrides") or {}
    po = overrides.get(skill) if isinstance(overrides, dict) else None
    if po is None and ":" in skill and isinstance(overrides, dict):
        po = overrides.get(skill.split(":", 1)[1])
    merged = dict(block) if isinstance(block, dict) else None
    reason = None
    if isinstance(po, dict):
        reason = str(po.get("reason") or "project override")
        base = merged if merged is not None else {}
        for key in BLOCK_KEYS:
            if key in po:
                base[key] = po[key]
        if "preferred" in po and "acceptable" not in po and isinstance(base.get("acceptable"), list):
            if po["preferred"] not in base["acceptable"]:
                base["acceptable"] = [*base["acceptable"], po["preferred"]]
        merged = base if base.get("preferred") is not None else merged
    if merged is None:
        return None, reason
    pref = merged.get("preferred")
    if not ctx.ok(pref):
        warnings.append(
            f"model block of {skill}: preferred {pref!r} is not a defined tier "
            f"({', '.join(ctx.order)}); routed as if it had no block"
        )
        return None, reason
    assert isinstance(pref, str)
    minimum = merged.get("minimum")
    if not ctx.ok(minimum):
        minimum = pref
    assert isinstance(minimum, str)
    if ctx.r(minimum) > ctx.r(pref):
        warnings.append(
            f"model block of {skill}: minimum {minimum} is above preferred {pref}; "
            f"routed with preferred {minimum} (the minimum is never undercut)"
        )
        pref = minimum
    if "acceptable" in merged:
        acceptable: list[str] = [t for t in (merged.get("acceptable") or []) if ctx.ok(t)]
    else:  # as skills.normalize_block: the tiers from the minimum to preferred
        acceptable = _tiers.between(ctx.config, minimum, pref)
    if pref not in acceptable:
        acceptable.append(pref)
    demand = merged.get("reasoning_demand")
    out: dict[str, Any] = {
        "preferred": pref,
        "minimum": minimum,
        "acceptable": sorted(set(acceptable), key=ctx.r),
        "allow_upgrade": merged.get("allow_upgrade") is not False,
        "allow_downgrade": merged.get("allow_downgrade") is not False,
        "reasoning_demand": demand if demand in DEMANDS else "medium",
        "estimated_tokens": merged.get("estimated_tokens") if isinstance(merged.get("estimated_tokens"), dict) else None,
        "conditions": [c for c in (merged.get("conditions") or []) if isinstance(c, dict)],
    }
    return out, reason


def _first_user_override(
    ctx: _Ctx, skill: str, overrides: dict[str, Any], session: dict[str, Any], warnings: list[str]
) -> tuple[str | None, str, str | None]:
    """(tier, scope, phrase): the user's explicit override for this skill.

    Most specific first; inline (this session's prompts) before session config:
    inline skill_models, inline prompt model, inline force_model, session
    skill_overrides, session force_model."""
    src = overrides.get("source_text")
    src = src if isinstance(src, dict) else {}
    short = skill.split(":", 1)[1] if ":" in skill else skill

    def per_skill(table: object) -> object:
        if not isinstance(table, dict):
            return None
        return table.get(skill, table.get(short))

    src_skills = src.get("skill_models")
    candidates: list[tuple[object, str, object]] = [
        (per_skill(overrides.get("skill_models")), "inline skill override", per_skill(src_skills)),
        (overrides.get("prompt_model"), "inline prompt override", src.get("prompt_model")),
        (overrides.get("force_model"), "inline force_model", src.get("force_model")),
        (per_skill(session.get("skill_overrides")), "session-config skill_overrides", None),
        (session.get("force_model"), "session-config force_model", None),
    ]
    for tier, scope, phrase in candidates:
        if tier is None or tier == "":
            continue
        if not ctx.ok(tier):
            warnings.append(f"{scope} {tier!r} ignored: not a defined tier ({', '.join(ctx.order)})")
            continue
        assert isinstance(tier, str)
        return tier, scope, phrase if isinstance(phrase, str) and phrase else None
    return None, "", None


def _estimate(est: dict[str, Any] | None) -> tuple[float | None, float | None, float | None]:
    """(upper total, upper input, upper output) token estimates."""
    if not isinstance(est, dict):
        return None, None, None

    def hi(key: str) -> float | None:
        v = est.get(key)
        if isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            return float(max(v))
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        return None

    total, inp, out = hi("total_estimate"), hi("input"), hi("output")
    if total is None and inp is not None and out is not None:
        total = inp + out
    return total, inp, out


def _price_per_token(
    ctx: _Ctx, tier: str, inp: float | None, out: float | None
) -> float | None:
    """USD per token for a tier, the input and output prices blended by the
    estimate's split (the higher price when the estimate has no split)."""
    entry = _tiers.tier_entry(ctx.config, tier)
    price = entry.get("price_per_mtok")
    if not isinstance(price, dict):
        return None
    pin, pout = price.get("input"), price.get("output")
    if not isinstance(pin, (int, float)) or not isinstance(pout, (int, float)):
        return None
    if inp is not None and out is not None and inp + out > 0:
        return (inp * pin + out * pout) / (inp + out) / 1e6
    return max(pin, pout) / 1e6


def _budget_label(entry: dict[str, Any]) -> str:
    return f"{entry.get('window', '?')} {entry.get('key', '?')}"


def _check_cap(
    ctx: _Ctx, tier: str, need: float, inp: float | None, out: float | None,
    entries: list[dict[str, Any]], reserve_share: float, warnings: list[str],
) -> tuple[bool, str, dict[str, Any] | None]:
    """Does ``need`` tokens at ``tier`` fit every budget that binds the tier?
    (fits, what was compared, the budget it does not fit)."""
    checks: list[str] = []
    for e in entries:
        key = e.get("key")
        remaining, limit = e.get("remaining"), e.get("limit")
        if not isinstance(remaining, (int, float)) or isinstance(remaining, bool):
            continue
        reserve = reserve_share * limit if isinstance(limit, (int, float)) and reserve_share > 0 else 0.0
        usable = remaining - reserve
        reserved = f" after the {reserve_share:.0%} priority reserve" if reserve else ""
        if key == "tokens" or (key == "opus_tokens" and tier == "opus"):
            if need > usable:
                return False, (
                    f"{tier}: estimate {_fmt(need)} tokens exceeds the {_fmt(max(usable, 0))} left"
                    f"{reserved} of {_budget_label(e)}"
                ), e
            checks.append(f"{_fmt(need)} <= {_fmt(usable)} {_budget_label(e)}")
        elif key == "total_spend":
            per_token = _price_per_token(ctx, tier, inp, out)
            if per_token is None:
                msg = (f"the {_budget_label(e)} cap could not be checked for {tier}: "
                       "no price_per_mtok for it in the config tiers")
                if msg not in warnings:
                    warnings.append(msg)
                continue
            cost = need * per_token
            if cost > usable:
                return False, (
                    f"{tier}: estimate {_money(cost)} ({_fmt(need)} tokens) exceeds the "
                    f"{_money(max(usable, 0))} left{reserved} of {_budget_label(e)}"
                ), e
            checks.append(f"{_money(cost)} <= {_money(usable)} {_budget_label(e)}")
    return True, "; ".join(checks), None


def _no_step_down(user_applied: bool, mode: Any, blk: dict[str, Any] | None, otherwise: str) -> str:
    """Why a tier that is out of budget was not stepped down; ``otherwise`` when
    stepping down was allowed but no tier qualified."""
    if user_applied:
        return "a user override is not stepped down"
    if mode == "off":
        return "conservation mode off"
    if blk is None:
        return "no model block to step down within"
    if not blk["allow_downgrade"]:
        return "allow_downgrade: false"
    return otherwise


def _reset_text(budget: dict[str, Any], tier: str | None) -> str:
    """'wait for the budget to reset (at T)': the latest reset among the spent
    budgets that bind the tier."""
    resets = []
    for e in budget.get("budgets") or []:
        if not isinstance(e, dict):
            continue
        rem = e.get("remaining")
        key = e.get("key")
        binds = key in ("tokens", "total_spend") or (tier == "opus" and key in ("opus_tokens", "opus_messages"))
        if binds and isinstance(rem, (int, float)) and rem <= 0 and isinstance(e.get("reset_at"), str):
            resets.append(e["reset_at"])
    if resets:
        return f"wait for the budget to reset at {max(resets)}"
    return "wait for the budget to reset"


def _switch_option(tier: str, minimum: str | None, below_min: bool, extra: str = "") -> str:
    if below_min:
        return (f"switch to {tier} only by saying \"use {tier}, ignore minimum\": "
                f"below the minimum {minimum}, quality may degrade{extra}")
    return f"switch to {tier}: say \"use {tier}\"{extra}"


def _zone_word(zone: str, mode: str) -> str:
    return "aggressive-mode" if mode == "aggressive" else f"{zone}-zone"


def _analytic_tier(ctx: _Ctx) -> str:
    """The ceiling for medium reasoning demand in the yellow zone: the tier
    just below the most capable one (sonnet with the default tiers)."""
    return ctx.order[-2] if len(ctx.order) >= 2 else ctx.order[0]


def _pick(ctx: _Ctx, acceptable: list[str], minimum: str, current: str, desired: str) -> str:
    """The cheapest tier at or above ``desired`` among the acceptable tiers from
    the minimum up to ``current`` (``current`` itself when none is lower)."""
    lo = max(ctx.r(minimum), ctx.r(desired))
    candidates = [t for t in acceptable if lo <= ctx.r(t) < ctx.r(current)]
    return min(candidates, key=ctx.r) if candidates else current


def _pause_option(budget: dict[str, Any]) -> str:
    resets = [e.get("reset_at") for e in budget.get("budgets") or [] if isinstance(e, dict) and isinstance(e.get("reset_at"), str)]
    binding = budget.get("binding") if isinstance(budget.get("binding"), dict) else None
    if binding:
        for e in budget.get("budgets") or []:
            if isinstance(e, dict) and e.get("window") == binding.get("window") and e.get("key") == binding.get("key") and isinstance(e.get("reset_at"), str):
                return f"pause until the budget resets at {e['reset_at']}"
    if resets:
        return f"pause until the budget resets at {min(resets)}"  # type: ignore[type-var]
    return "pause until the budget resets"


def _blocked_options(
    ctx: _Ctx, options: tuple[str, ...], wait: str, tier: str, minimum: str | None,
    exhausted: list[str], fit_lower: list[str] | None,
) -> tuple[str, ...]:
    """``options`` and the §2.3 step 5 ones: wait for the reset, switch to a
    lower tier (below the minimum only by saying "ignore minimum"), export the
    context."""
    lower = [t for t in reversed(ctx.order) if ctx.r(t) < ctx.r(tier) and t not in exhausted]
    if fit_lower is not None:
        lower = [t for t in lower if t in fit_lower]
    if not lower:
        return (*options, wait, EXPORT_OPTION)
    t = lower[0]
    below = minimum is not None and ctx.r(t) < ctx.r(minimum)
    return (*options, wait, _switch_option(t, minimum, below), EXPORT_OPTION)
