"""The routing decision: which tier a skill runs at, and why (docs/routing.md).

``decide`` is pure: plain dicts in (skill block, resolved config, overrides,
budget state, request text), a decision dict out. No I/O, no clock; the same
inputs always give the same decision. Precedence (spec §1.3): user explicit
override > skill minimum > budget > skill preferred > session default >
platform default. Every step consulted is listed in ``steps``, highest
precedence first.

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

from tierwise import tiers as _tiers
from tierwise.routing import conditions as _conditions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MODES = ("off", "auto", "aggressive")
DEMANDS = ("low", "medium", "high", "variable")
ROLES = ("coordinator", "specialist")
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


def _user_override(
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
    ctx = _Ctx(config)
    warnings: list[str] = []
    options: list[str] = []
    overrides = overrides if isinstance(overrides, dict) else {}
    budget = budget if isinstance(budget, dict) else {}
    session = config.get("session") if isinstance(config.get("session"), dict) else {}
    assert isinstance(session, dict)
    defaults = config.get("defaults") if isinstance(config.get("defaults"), dict) else {}
    assert isinstance(defaults, dict)
    role = role if role in ROLES else "specialist"
    plat = _tiers.canonical_platform(platform) or platform
    request_text = request_text if isinstance(request_text, str) else ""

    zone: str = budget["zone"] if budget.get("zone") in ("green", "yellow", "red") else "green"
    binding = budget.get("binding")
    binding_label = binding.get("label") if isinstance(binding, dict) and isinstance(binding.get("label"), str) else None
    exhausted = [t for t in (budget.get("exhausted_tiers") or []) if ctx.ok(t)]
    entries = [e for e in (budget.get("budgets") or []) if isinstance(e, dict)]

    mode = session.get("conservation_mode")
    mode_source = "session"
    if mode is None:
        mode, mode_source = defaults.get("conservation_mode"), "config defaults"
    if mode is None:
        mode, mode_source = "auto", "built-in default"
    if mode not in MODES:
        warnings.append(f"conservation_mode {mode!r} is not one of off, auto, aggressive; using auto")
        mode, mode_source = "auto", "built-in default"

    blk, project_reason = _merge_block(ctx, skill_name, block, warnings)
    reserve_cfg = config.get("priority_reserve") if isinstance(config.get("priority_reserve"), dict) else {}
    assert isinstance(reserve_cfg, dict)
    reserved_demands = reserve_cfg.get("reasoning_demand") or ["high"]
    # The reasoning demands the priority reserve is kept for see the zone of the
    # whole budget (ledger.budget.state's priority_zone); the others see the
    # zone of the budget minus the reserve ("zone").
    if blk is not None and blk["reasoning_demand"] in reserved_demands and budget.get("priority_zone") in ("green", "yellow", "red"):
        zone = budget["priority_zone"]
        pb = budget.get("priority_binding")
        binding_label = pb.get("label") if isinstance(pb, dict) and isinstance(pb.get("label"), str) else None
    ignore_min = bool(overrides.get("ignore_minimum")) or bool(session.get("ignore_minimum"))
    ignore_src = overrides.get("source_text", {}).get("ignore_minimum") if isinstance(overrides.get("source_text"), dict) else None
    u_tier, u_scope, u_text = _user_override(ctx, skill_name, overrides, session, warnings)

    steps: list[dict[str, Any]] = []

    def step(name: str, value: object, note: str) -> None:
        steps.append({"step": name, "value": value, "note": note})

    decision: dict[str, Any] = {
        "skill": skill_name,
        "tier": None,
        "model": None,
        "blocked": False,
        "preferred": blk["preferred"] if blk else None,
        "minimum": blk["minimum"] if blk else None,
        "zone": zone,
        "reason": "",
        "steps": steps,
        "warnings": warnings,
        "options": options,
        "role": role,
        "reasoning_demand": blk["reasoning_demand"] if blk else None,
        "mode": mode,
        "binding": binding_label,
        "user_override": None,
        "triggers": None,
        "platform": plat,
    }

    # 1. user explicit override
    if u_tier:
        decision["user_override"] = {"tier": u_tier, "scope": u_scope, "text": u_text}
        step("user_override", u_tier, f"{u_scope}" + (f": \"{u_text}\"" if u_text else ""))
    else:
        step("user_override", None, "none")
    refused_upgrade = ""
    if u_tier and blk and not blk["allow_upgrade"] and ctx.r(u_tier) > ctx.r(blk["preferred"]):
        refused_upgrade = (f"user override {u_tier} refused (allow_upgrade: false, "
                           f"above preferred {blk['preferred']})")
        step("allow_upgrade", blk["preferred"], f"allow_upgrade: false refuses {u_tier}, above preferred {blk['preferred']}")
        decision["user_override"]["refused"] = True
        u_tier = None

    tier: str | None
    head: str
    budget_why = ""  # the zone/mode rule that moved the tier down, for triggers
    triggers_down: list[str] = []
    triggers_up: list[str] = []
    hold_floor: str | None = None

    if blk is None:
        tier, head = _no_block(ctx, role, u_tier, defaults, zone, mode, plat, step)
        user_applied = u_tier is not None
    elif u_tier is not None:
        user_applied = True
        pref, minimum = blk["preferred"], blk["minimum"]
        if ctx.r(u_tier) < ctx.r(minimum):
            if ignore_min:
                tier = u_tier
                said = f" (\"{ignore_src}\")" if isinstance(ignore_src, str) else ""
                warnings.append(
                    f"quality warning: {skill_name} runs at {u_tier}, below its minimum {minimum}; "
                    f"the user said ignore minimum{said}"
                )
                step("minimum", minimum, f"lifted: the user said ignore minimum{said}")
                head = "user override, below minimum (ignore minimum): quality may degrade"
            else:
                tier = minimum
                step("minimum", minimum, f"override {u_tier} is below the minimum: raised to {minimum}")
                head = f"user override {u_tier} below minimum, raised to minimum {minimum}"
        else:
            tier = u_tier
            step("minimum", minimum, f"override {u_tier} is at or above the minimum")
            head = "user override, above minimum"
        step("budget", None, f"not applied: a user override ranks above the budget ({zone} zone)")
        step("preferred", pref, "outranked by the user override" + (f" (project override: {project_reason})" if project_reason else ""))
    else:
        user_applied = False
        pref, minimum = blk["preferred"], blk["minimum"]
        acceptable = blk["acceptable"]
        demand = blk["reasoning_demand"]
        # conditions adjust the preferred tier (evaluated first, listed after preferred)
        base = pref
        cond_steps: list[tuple[object, str]] = []
        holds: list[tuple[str, str]] = []
        downs: list[tuple[str, str]] = []
        for i, cond in enumerate(blk["conditions"]):
            target_key = "hold_at" if "hold_at" in cond else "downgrade_to" if "downgrade_to" in cond else None
            target = cond.get(target_key) if target_key else None
            if target_key is None or not ctx.ok(target):
                warnings.append(f"condition {i} of {skill_name} ignored: it needs hold_at or downgrade_to naming a defined tier")
                continue
            assert isinstance(target, str)
            hit = _conditions.match(cond.get("when"), request_text)
            if hit is None:
                continue
            (holds if target_key == "hold_at" else downs).append((target, hit))
        if blk["conditions"]:
            decision["triggers"] = {"upgrade": triggers_up, "downgrade": triggers_down}
        cond_head = ""
        if holds:
            h, why = max(holds, key=lambda x: ctx.r(x[0]))
            hold_floor = h
            triggers_up.append(f"\"{why}\" → hold at {h}")
            if ctx.r(h) > ctx.r(base):
                base = h
                cond_head = f"condition hold_at {h} (\"{why}\")"
                cond_steps.append((h, f"hold_at {h} matched \"{why}\": raised from {pref}"))
            else:
                cond_steps.append((h, f"hold_at {h} matched \"{why}\": held against yellow-zone downgrades"))
            for d, dwhy in downs:
                cond_steps.append((d, f"downgrade_to {d} matched \"{dwhy}\" but hold_at {h} takes precedence"))
        elif downs:
            d, why = max(downs, key=lambda x: ctx.r(x[0]))
            target = d if ctx.r(d) >= ctx.r(minimum) else minimum
            triggers_down.append(f"\"{why}\" → {target}")
            if ctx.r(target) < ctx.r(base):
                base = target
                cond_head = f"condition downgrade_to {target} (\"{why}\")"
                note = f"downgrade_to {d} matched \"{why}\": lowered to {target}"
                if target != d:
                    note += f" (not below the minimum {minimum})"
                cond_steps.append((target, note))
            else:
                cond_steps.append((d, f"downgrade_to {d} matched \"{why}\": already at or below it"))
        elif blk["conditions"]:
            cond_steps.append((None, "no condition matched the request"))

        # budget: zone + conservation mode
        desired: str | None = None
        why = ""
        offer: str | None = None
        if mode == "off":
            why = "conservation mode off"
        elif mode == "aggressive":
            desired, why = minimum, "conservation mode aggressive → minimum"
        elif zone == "red":
            desired, why = minimum, "red zone → minimum"
        elif zone == "yellow":
            ceiling = _analytic_tier(ctx)
            if role == "coordinator":
                desired, why = ctx.order[0], f"yellow zone, coordinator → {ctx.order[0]}"
            elif demand == "low":
                desired, why = minimum, "yellow zone, low reasoning demand → minimum"
            elif demand in ("medium", "variable") and not (demand == "variable" and hold_floor):
                desired, why = ceiling, f"yellow zone, {demand} reasoning demand → at most {ceiling}"
            elif demand == "high":
                why = "yellow zone, high reasoning demand held"
                offered = _pick(ctx, acceptable, minimum, base, ceiling)
                if offered != base and not hold_floor:
                    offer = offered
            else:
                why = f"yellow zone, variable reasoning demand held by hold_at {hold_floor}"
            if desired is not None and hold_floor and ctx.r(desired) < ctx.r(hold_floor):
                desired = hold_floor if ctx.r(hold_floor) <= ctx.r(base) else base
                why += f" (held at {desired} by a matched hold_at)"
        tier = base
        budget_note = why or f"{zone} zone: no downgrade"
        refused = ""
        if desired is not None and ctx.r(desired) < ctx.r(base):
            new = _pick(ctx, acceptable, minimum, base, desired)
            if new == base:
                budget_note = f"{why}: no acceptable tier below {base} at or above the minimum {minimum}"
            elif not blk["allow_downgrade"]:
                refused = f"allow_downgrade: false refuses the {_zone_word(zone, mode)} downgrade to {new}"
                budget_note = f"{why}: {new} proposed"
            else:
                tier = new
                budget_why = why
                triggers_down.append(why.replace("→ minimum", f"→ {new}"))
                budget_note = f"{why}: {base} → {new}"
        elif desired is not None:
            budget_note = f"{why}: no downgrade needed"
        step("minimum", minimum, "floor for the budget and conditions" + (f" (project override: {project_reason})" if project_reason else ""))
        step("budget", tier if tier != base else None, f"{budget_note} (mode {mode} from {mode_source})")
        if refused:
            step("allow_downgrade", base, refused)
        if offer is not None:
            if blk["allow_downgrade"]:
                options.append(f"accept {offer}: say \"use {offer}\" (quality impact: noticeable for a high reasoning demand skill)")
                options.append(_pause_option(budget))
            else:
                offer = None
        step("preferred", pref, "the skill's preferred tier" + (f" (project override: {project_reason})" if project_reason else ""))
        for value, note in cond_steps:
            step("condition", value, note)

        # the reason
        source = cond_head or "preferred model"
        if tier != base:
            head = f"budget downgrade from {base}: {budget_why}"
            if cond_head:
                head = f"{cond_head}; {head}"
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

    if refused_upgrade:
        head = f"{refused_upgrade}; {head}"

    # exhausted tiers and the hard cap
    blocked_why = ""
    if tier is not None and tier in exhausted:
        can_step = blk is not None and not user_applied and mode != "off" and blk["allow_downgrade"]
        lower: str | None = None
        if can_step and blk is not None:
            for t in reversed(blk["acceptable"]):
                if ctx.r(t) < ctx.r(tier) and ctx.r(t) >= ctx.r(blk["minimum"]) and t not in exhausted:
                    lower = t
                    break
        if lower is not None:
            step("budget", lower, f"{tier} is exhausted: stepped down to {lower} within acceptable")
            head += f"; {tier} exhausted → {lower}"
            tier = lower
        else:
            why_not = _no_step_down(
                user_applied, mode, blk,
                f"no other acceptable tier at or above the minimum {blk['minimum']} is available" if blk else "",
            )
            blocked_why = f"{tier} is exhausted; {why_not}"
            step("budget", None, f"blocked: {blocked_why}")
            _blocked_options(ctx, options, _reset_text(budget, tier), tier, blk["minimum"] if blk else None, exhausted, None)

    if tier is not None and not blocked_why and blk is not None:
        total, inp, out = _estimate(blk.get("estimated_tokens"))
        caps = config.get("hard_caps") if isinstance(config.get("hard_caps"), dict) else {}
        assert isinstance(caps, dict)
        margin = caps.get("safety_margin", 1.3)
        margin = float(margin) if isinstance(margin, (int, float)) and not isinstance(margin, bool) else 1.3
        share = reserve_cfg.get("share", 0.0)
        share = float(share) if isinstance(share, (int, float)) and not isinstance(share, bool) else 0.0
        reserve_share = share if blk["reasoning_demand"] not in reserved_demands else 0.0
        capped = [e for e in entries if isinstance(e.get("remaining"), (int, float)) and e.get("key") in ("tokens", "opus_tokens", "total_spend")]
        if total is None:
            step("hard_cap", None, "no estimated_tokens: nothing to check")
        elif not capped:
            step("hard_cap", None, "no budget with a remaining figure: nothing to check")
        else:
            need = total * margin
            fits, detail, failed = _check_cap(ctx, tier, need, inp, out, capped, reserve_share, warnings)
            reserve_note = f"; priority reserve {reserve_share:.0%} held back" if reserve_share else ""
            if fits:
                step("hard_cap", None, f"upper estimate {_fmt(total)} × {margin:g} = {_fmt(need)} tokens fits at {tier}"
                     + (f" ({detail})" if detail else "") + reserve_note)
            else:
                can_step = not user_applied and mode != "off" and blk["allow_downgrade"]
                fitted = None
                fit_lower: list[str] = []
                for t in reversed(ctx.order):
                    if ctx.r(t) >= ctx.r(tier) or t in exhausted:
                        continue
                    ok, _, _ = _check_cap(ctx, t, need, inp, out, capped, reserve_share, warnings)
                    if not ok:
                        continue
                    fit_lower.append(t)
                    if fitted is None and can_step and t in blk["acceptable"] and ctx.r(t) >= ctx.r(blk["minimum"]):
                        fitted = t
                if fitted is not None:
                    step("hard_cap", fitted, f"{detail} (× {margin:g} safety margin){reserve_note}: stepped down to {fitted}")
                    head += f"; hard cap: {detail} → {fitted}"
                    tier = fitted
                else:
                    why_not = _no_step_down(
                        user_applied, mode, blk, f"no acceptable tier at or above the minimum {blk['minimum']} fits"
                    )
                    blocked_why = f"hard cap: {detail}; {why_not}"
                    step("hard_cap", None, f"blocked: {detail} (× {margin:g} safety margin){reserve_note}; {why_not}")
                    options.append(f"run at {tier} anyway ({detail})")
                    reset_at = failed.get("reset_at") if failed else None
                    wait = (f"wait for the budget to reset at {reset_at}" if isinstance(reset_at, str)
                            else "wait for the budget to reset")
                    _blocked_options(ctx, options, wait, tier, blk["minimum"], exhausted, fit_lower)

    steps.sort(key=lambda s: STEP_ORDER.get(s["step"], 99))
    if blocked_why:
        decision["blocked"] = True
        decision["tier"] = None
        decision["model"] = None
        decision["wanted"] = tier
        decision["reason"] = f"blocked: {blocked_why}"
        return decision
    decision["tier"] = tier
    decision["reason"] = head
    if tier is not None:
        model = _tiers.model_for(config, tier, plat)
        if model is None:
            warnings.append(f"tier {tier} has no model id for {plat} in the config tiers")
        decision["model"] = model
    return decision


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
    ctx: _Ctx, options: list[str], wait: str, tier: str, minimum: str | None,
    exhausted: list[str], fit_lower: list[str] | None,
) -> None:
    """§2.3 step 5: wait for the reset, switch to a lower tier (below the
    minimum only by saying "ignore minimum"), export the context."""
    options.append(wait)
    lower = [t for t in reversed(ctx.order) if ctx.r(t) < ctx.r(tier) and t not in exhausted]
    if fit_lower is not None:
        lower = [t for t in lower if t in fit_lower]
    if lower:
        t = lower[0]
        below = minimum is not None and ctx.r(t) < ctx.r(minimum)
        options.append(_switch_option(t, minimum, below))
    options.append(EXPORT_OPTION)


def _no_block(
    ctx: _Ctx, role: str, u_tier: str | None, defaults: dict[str, Any],
    zone: str, mode: str, plat: str, step: Any,
) -> tuple[str | None, str]:
    """A skill without a model block: user override, else session default by
    role, else the platform default (the client's own model; tierwise sets none).
    Without a block there is no minimum and no acceptable range, so the budget
    moves only coordinators (cascade step 1: to the cheapest tier)."""
    if u_tier is not None:
        step("minimum", None, "no model block: no minimum")
        step("budget", None, f"not applied: a user override ranks above the budget ({zone} zone)")
        return u_tier, "user override, no model block"
    default = defaults.get(role)
    step("minimum", None, "no model block: no minimum")
    squeeze = role == "coordinator" and (mode == "aggressive" or (mode == "auto" and zone in ("yellow", "red")))
    cheapest = ctx.order[0]
    if squeeze and ctx.ok(default) and default != cheapest:
        why = "conservation mode aggressive" if mode == "aggressive" else f"{zone} zone"
        step("budget", cheapest, f"{why}, coordinator → {cheapest}")
        step("preferred", None, "no model block")
        step("session_default", default, f"defaults.{role}")
        return cheapest, f"budget downgrade from {default}: {why}, coordinator → {cheapest}"
    step("budget", None, f"no model block: only coordinators are downgraded ({zone} zone, mode {mode})")
    step("preferred", None, "no model block")
    if ctx.ok(default):
        assert isinstance(default, str)
        step("session_default", default, f"defaults.{role}")
        return default, f"no model block: session default for {role}s"
    step("session_default", None, f"defaults.{role} is not set to a defined tier")
    name = PLATFORM_NAMES.get(plat, plat)
    step("platform_default", None, f"{name}'s own model: tierwise sets none")
    return None, f"no model block and no session default: platform default ({name}'s own model)"
