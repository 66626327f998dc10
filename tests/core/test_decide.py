"""The routing decision (docs/routing.md): every rule with a case where it
applies and one where it does not. Inputs are plain dicts in the documented
shapes (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tierwise.hot.routing.decide import decide


def make_config(**changes: Any) -> dict[str, Any]:
    prices = {"haiku": {"input": 1.0, "output": 5.0}, "sonnet": {"input": 3.0, "output": 15.0}, "opus": {"input": 5.0, "output": 25.0}}
    config: dict[str, Any] = {
        "tiers": [
            {"name": name, "models": {"claude_code": f"claude-{name}-4-5", "qwen_code": f"qwen-{name}", "codex": None},
             "cost_ratio": ratio, "description": "", "price_per_mtok": prices[name]}
            for name, ratio in (("haiku", 1), ("sonnet", 5), ("opus", 25))
        ],
        "zones": {"yellow": 0.70, "red": 0.90},
        "defaults": {"coordinator": "haiku", "specialist": "sonnet", "reference_loading": "haiku", "conservation_mode": "auto"},
        "budgets": {},
        "priority_reserve": {"share": 0.0, "reasoning_demand": ["high"]},
        "hard_caps": {"safety_margin": 1.3},
        "overrides": {},
        "session": {"force_model": None, "conservation_mode": None, "skill_overrides": {}, "ignore_minimum": False},
        "sources": [],
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


def block(preferred: str = "sonnet", minimum: str = "haiku", acceptable: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "preferred": preferred,
        "acceptable": acceptable if acceptable is not None else ["haiku", "sonnet", "opus"],
        "minimum": minimum,
        "allow_upgrade": True,
        "allow_downgrade": True,
        "reasoning_demand": "medium",
        "estimated_tokens": None,
        "conditions": [],
    }
    out.update(extra)
    return out


UBI = block(
    "opus", "sonnet", ["opus", "sonnet"], reasoning_demand="high",
    conditions=[
        {"when": "issue is a known pattern (exact CSS property fix, missing import)", "downgrade_to": "sonnet"},
        {"when": "issue involves state management, hydration, or race conditions", "hold_at": "opus"},
    ],
)


def zone(name: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"zone": name, "binding": None, "budgets": [], "exhausted_tiers": []}
    out.update(extra)
    return out


def run(blk: dict[str, Any] | None, *, role: str = "specialist", config: dict[str, Any] | None = None,
        overrides: dict[str, Any] | None = None, budget: dict[str, Any] | None = None, text: str = "",
        platform: str = "claude_code", skill: str = "some-skill") -> dict[str, Any]:
    return decide(skill, blk, role, config or make_config(), overrides or {}, budget or zone("green"), text, platform)


def steps(d: dict[str, Any]) -> list[str]:
    return [s["step"] for s in d["steps"]]


# ---------------------------------------------------------------- precedence


def test_green_uses_preferred_and_lists_the_steps_in_precedence_order() -> None:
    d = run(UBI, text="the dropdown flickers")
    assert (d["tier"], d["model"], d["blocked"]) == ("opus", "claude-opus-4-5", False)
    assert d["reason"] == "preferred model, budget available"
    assert steps(d) == ["user_override", "minimum", "budget", "hard_cap", "preferred", "condition"]
    assert d["preferred"] == "opus" and d["minimum"] == "sonnet" and d["zone"] == "green"


def test_user_override_wins_over_preferred() -> None:
    d = run(block("sonnet"), overrides={"prompt_model": "opus", "source_text": {"prompt_model": "using opus"}})
    assert d["tier"] == "opus"
    assert d["reason"] == "user override, above minimum"
    assert d["user_override"] == {"tier": "opus", "scope": "inline prompt override", "text": "using opus"}


def test_user_override_below_minimum_is_raised_to_minimum() -> None:
    d = run(UBI, overrides={"force_model": "haiku"})
    assert d["tier"] == "sonnet"
    assert d["reason"] == "user override haiku below minimum, raised to minimum sonnet"
    assert d["warnings"] == []


def test_ignore_minimum_lets_an_override_below_minimum_with_a_quality_warning() -> None:
    d = run(UBI, overrides={"force_model": "haiku", "ignore_minimum": True, "source_text": {"ignore_minimum": "ignore minimum"}})
    assert d["tier"] == "haiku"
    assert "quality may degrade" in d["reason"]
    assert any("quality warning" in w and "below its minimum sonnet" in w for w in d["warnings"])
    minimum_step = next(s for s in d["steps"] if s["step"] == "minimum")
    assert minimum_step["note"].startswith("lifted")


def test_ignore_minimum_from_session_config() -> None:
    config = make_config(session={"force_model": "haiku", "ignore_minimum": True})
    assert run(UBI, config=config)["tier"] == "haiku"
    config = make_config(session={"force_model": "haiku", "ignore_minimum": False})
    assert run(UBI, config=config)["tier"] == "sonnet"


def test_allow_upgrade_false_refuses_an_override_above_preferred() -> None:
    blk = block("sonnet", allow_upgrade=False)
    d = run(blk, overrides={"force_model": "opus"})
    assert d["tier"] == "sonnet"
    assert "allow_upgrade: false" in d["reason"] and "refused" in d["reason"]
    assert "allow_upgrade" in steps(d)
    # below preferred is no upgrade: allowed
    d = run(blk, overrides={"force_model": "haiku"})
    assert d["tier"] == "haiku" and "allow_upgrade" not in steps(d)
    # and with allow_upgrade true the upgrade goes through
    assert run(block("sonnet"), overrides={"force_model": "opus"})["tier"] == "opus"


def test_user_override_is_not_subject_to_zone_downgrades() -> None:
    d = run(block("sonnet"), overrides={"force_model": "opus"}, budget=zone("red"))
    assert d["tier"] == "opus"
    budget_step = next(s for s in d["steps"] if s["step"] == "budget")
    assert "user override ranks above the budget" in budget_step["note"]
    # without the override, red moves the same skill to its minimum
    assert run(block("sonnet"), budget=zone("red"))["tier"] == "haiku"


def test_inline_overrides_win_over_session_config_and_specific_over_general() -> None:
    config = make_config(session={"force_model": "opus", "skill_overrides": {"some-skill": "opus"}})
    assert run(block("sonnet"), config=config)["tier"] == "opus"
    d = run(block("sonnet"), config=config, overrides={"force_model": "haiku"})
    assert d["tier"] == "haiku" and d["user_override"]["scope"] == "inline force_model"
    d = run(block("sonnet"), overrides={"force_model": "haiku", "skill_models": {"some-skill": "opus"}})
    assert d["tier"] == "opus" and d["user_override"]["scope"] == "inline skill override"
    # a skill override for another skill does not apply
    assert run(block("sonnet"), overrides={"skill_models": {"other": "opus"}})["tier"] == "sonnet"
    # session skill_overrides beat session force_model
    config = make_config(session={"force_model": "haiku", "skill_overrides": {"some-skill": "opus"}})
    assert run(block("sonnet"), config=config)["tier"] == "opus"


def test_unknown_override_tier_is_ignored_with_a_warning() -> None:
    d = run(block("sonnet"), overrides={"force_model": "gpt4"})
    assert d["tier"] == "sonnet"
    assert any("'gpt4'" in w for w in d["warnings"])


def test_project_override_is_applied_to_the_block_first_with_its_reason() -> None:
    config = make_config(overrides={"some-skill": {"preferred": "opus", "minimum": "sonnet", "reason": "complex codebase"}})
    d = run(block("haiku", acceptable=["haiku", "sonnet"]), config=config)
    assert (d["tier"], d["preferred"], d["minimum"]) == ("opus", "opus", "sonnet")
    pref_step = next(s for s in d["steps"] if s["step"] == "preferred")
    assert "project override: complex codebase" in pref_step["note"]
    # another skill's override changes nothing
    config = make_config(overrides={"other": {"preferred": "opus"}})
    assert run(block("haiku"), config=config)["tier"] == "haiku"


def test_project_override_gives_a_blockless_skill_a_block() -> None:
    config = make_config(overrides={"some-skill": {"preferred": "opus", "reason": "r"}})
    d = run(None, config=config)
    assert d["tier"] == "opus" and d["preferred"] == "opus"


def test_no_block_uses_session_default_by_role() -> None:
    d = run(None)
    assert d["tier"] == "sonnet" and d["reason"] == "no model block: session default for specialists"
    assert steps(d)[-1] == "session_default"
    d = run(None, role="coordinator")
    assert d["tier"] == "haiku" and "coordinator" in d["reason"]


def test_no_block_and_no_session_default_falls_to_the_platform_default() -> None:
    config = make_config(defaults={"specialist": None})
    d = run(None, config=config)
    assert d["tier"] is None and d["model"] is None and not d["blocked"]
    assert "platform default (Claude Code's own model)" in d["reason"]
    assert steps(d)[-1] == "platform_default"
    d = run(None, config=config, platform="qwen")
    assert "Qwen Code's own model" in d["reason"]


def test_no_block_coordinator_goes_to_the_cheapest_tier_in_yellow_only() -> None:
    config = make_config(defaults={"coordinator": "sonnet"})
    assert run(None, role="coordinator", config=config, budget=zone("yellow"))["tier"] == "haiku"
    assert run(None, role="coordinator", config=config)["tier"] == "sonnet"
    assert run(None, role="specialist", config=config, budget=zone("yellow"))["tier"] == "sonnet"


def test_model_id_follows_the_platform() -> None:
    assert run(block("sonnet"), platform="qwen")["model"] == "qwen-sonnet"
    assert run(block("sonnet"), platform="qwen_code")["model"] == "qwen-sonnet"
    d = run(block("sonnet"), platform="codex")
    assert d["model"] is None and any("no model id for codex" in w for w in d["warnings"])


# ---------------------------------------------------------------- zones


def test_yellow_moves_coordinators_to_the_cheapest_tier() -> None:
    coord = block("sonnet", "haiku", ["haiku", "sonnet"], reasoning_demand="high")
    d = run(coord, role="coordinator", budget=zone("yellow"))
    assert d["tier"] == "haiku" and "coordinator" in d["reason"]
    # never below its minimum
    assert run(block("sonnet", "sonnet", ["sonnet"]), role="coordinator", budget=zone("yellow"))["tier"] == "sonnet"
    # the same block as a specialist with high demand stays
    assert run(coord, budget=zone("yellow"))["tier"] == "sonnet"


def test_yellow_low_demand_goes_to_minimum_unless_downgrades_are_refused() -> None:
    blk = block("sonnet", "haiku", reasoning_demand="low")
    d = run(blk, budget=zone("yellow"))
    assert d["tier"] == "haiku" and d["reason"].startswith("budget downgrade from sonnet: yellow zone, low reasoning demand")
    blk["allow_downgrade"] = False
    d = run(blk, budget=zone("yellow"))
    assert d["tier"] == "sonnet"
    assert "allow_downgrade: false refuses the yellow-zone downgrade to haiku" in d["reason"]
    assert "allow_downgrade" in steps(d)


def test_yellow_medium_demand_goes_to_at_most_sonnet_never_below_minimum() -> None:
    assert run(block("opus", "haiku"), budget=zone("yellow"))["tier"] == "sonnet"
    assert run(block("sonnet", "haiku"), budget=zone("yellow"))["tier"] == "sonnet"
    assert run(block("opus", "opus", ["opus"]), budget=zone("yellow"))["tier"] == "opus"


def test_budget_never_chooses_a_tier_outside_acceptable() -> None:
    # sonnet is not acceptable: the medium ceiling cannot be reached, haiku is too low
    assert run(block("opus", "haiku", ["haiku", "opus"]), budget=zone("yellow"))["tier"] == "opus"
    # red: minimum haiku is acceptable -> haiku
    assert run(block("opus", "haiku", ["haiku", "opus"]), budget=zone("red"))["tier"] == "haiku"


def test_yellow_high_demand_is_held_with_an_offer() -> None:
    budget = zone("yellow", binding={"window": "weekly", "key": "opus_messages", "share": 0.78, "label": "weekly opus at 78%"},
                  budgets=[{"window": "weekly", "key": "opus_messages", "limit": 45, "used": 35, "remaining": 10,
                            "share": 0.78, "reset_at": "2026-11-24T00:00:00Z", "source": "local"}])
    d = run(UBI, budget=budget, text="the page looks odd")
    assert d["tier"] == "opus" and not d["blocked"]
    assert "offer: sonnet" in d["reason"]
    assert d["options"] == [
        'accept sonnet: say "use sonnet" (quality impact: noticeable for a high reasoning demand skill)',
        "pause until the budget resets at 2026-11-24T00:00:00Z",
    ]
    refused = dict(UBI, allow_downgrade=False)
    assert run(refused, budget=budget)["options"] == []
    assert run(UBI, budget=zone("green"))["options"] == []


def test_variable_demand_is_medium_unless_a_hold_at_matched() -> None:
    blk = block("opus", "haiku", reasoning_demand="variable",
                conditions=[{"when": "involves race conditions", "hold_at": "opus"}])
    assert run(blk, budget=zone("yellow"), text="a button label is wrong")["tier"] == "sonnet"
    d = run(blk, budget=zone("yellow"), text="I think there is a race condition")
    assert d["tier"] == "opus"
    assert d["triggers"]["upgrade"] == ['"race conditions" → hold at opus']


def test_hold_at_holds_low_demand_in_yellow_but_not_in_red() -> None:
    blk = block("sonnet", "haiku", reasoning_demand="low", conditions=[{"when": "mentions: stack trace", "hold_at": "sonnet"}])
    trace = 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nValueError: x'
    assert run(blk, budget=zone("yellow"), text=trace)["tier"] == "sonnet"
    assert run(blk, budget=zone("yellow"), text="rename a variable")["tier"] == "haiku"
    assert run(blk, budget=zone("red"), text=trace)["tier"] == "haiku"


def test_red_moves_every_skill_to_its_minimum_unless_refused() -> None:
    d = run(UBI, budget=zone("red"), text="hydration mismatch")
    assert d["tier"] == "sonnet" and d["reason"] == "budget downgrade from opus: red zone → minimum"
    d = run(dict(UBI, allow_downgrade=False), budget=zone("red"))
    assert d["tier"] == "opus" and "allow_downgrade: false refuses the red-zone downgrade to sonnet" in d["reason"]


def test_conservation_modes() -> None:
    off = make_config(session={"conservation_mode": "off"})
    d = run(UBI, config=off, budget=zone("red"))
    assert d["tier"] == "opus" and d["reason"] == "preferred model, conservation mode off"
    aggressive = make_config(defaults={"conservation_mode": "aggressive"})
    d = run(UBI, config=aggressive, budget=zone("green"))
    assert d["tier"] == "sonnet" and "aggressive" in d["reason"]
    # the session's mode wins over the project/default one
    both = make_config(defaults={"conservation_mode": "aggressive"}, session={"conservation_mode": "off"})
    assert run(UBI, config=both)["tier"] == "opus"
    # aggressive respects allow_downgrade: false
    assert run(dict(UBI, allow_downgrade=False), config=aggressive)["tier"] == "opus"
    bogus = make_config(session={"conservation_mode": "turbo"})
    d = run(UBI, config=bogus, budget=zone("red"))
    assert d["tier"] == "sonnet" and any("turbo" in w for w in d["warnings"])


# ---------------------------------------------------------------- conditions


def test_downgrade_to_applies_when_its_when_matches() -> None:
    d = run(UBI, text="There is a missing import in Header.tsx")
    assert d["tier"] == "sonnet"
    assert d["reason"] == 'condition downgrade_to sonnet ("missing import"), budget available'
    assert d["triggers"]["downgrade"] == ['"missing import" → sonnet']
    assert run(UBI, text="There is an import that looks odd")["tier"] == "opus"


def test_hold_at_takes_precedence_over_a_matched_downgrade() -> None:
    d = run(UBI, text="missing import causes a hydration mismatch")
    assert d["tier"] == "opus"
    notes = [s["note"] for s in d["steps"] if s["step"] == "condition"]
    assert any("hold_at opus takes precedence" in n for n in notes)


def test_hold_at_raises_above_preferred() -> None:
    blk = block("sonnet", "haiku", conditions=[{"when": "animation or transition issues", "hold_at": "opus"}])
    d = run(blk, text="the transition stutters")
    assert d["tier"] == "opus"
    assert d["reason"] == 'condition hold_at opus ("transition issues"), budget available'
    assert run(blk, text="the color is wrong")["tier"] == "sonnet"


def test_downgrade_to_never_goes_below_minimum() -> None:
    blk = block("opus", "sonnet", ["haiku", "sonnet", "opus"], conditions=[{"when": "typo", "downgrade_to": "haiku"}])
    d = run(blk, text="fix a typo")
    assert d["tier"] == "sonnet"
    assert any("not below the minimum sonnet" in s["note"] for s in d["steps"])


def test_conditions_are_not_evaluated_under_a_user_override() -> None:
    d = run(UBI, overrides={"force_model": "opus"}, text="missing import")
    assert d["tier"] == "opus" and d["triggers"] is None and "condition" not in steps(d)


# ---------------------------------------------------------------- exhausted tiers


def test_exhausted_preferred_steps_down_within_acceptable() -> None:
    d = run(UBI, budget=zone("green", exhausted_tiers=["opus"]))
    assert d["tier"] == "sonnet" and "opus exhausted → sonnet" in d["reason"] and not d["blocked"]


def test_exhausted_down_to_the_minimum_is_blocked_with_the_step5_options() -> None:
    budget = zone("red", exhausted_tiers=["opus", "sonnet"], budgets=[
        {"window": "weekly", "key": "tokens", "limit": 100, "used": 100, "remaining": 0, "share": 1.0,
         "reset_at": "2026-11-24T00:00:00Z", "source": "local"}])
    d = run(UBI, budget=budget)
    assert d["blocked"] and d["tier"] is None and d["model"] is None and d["wanted"] == "sonnet"
    assert d["reason"] == "blocked: sonnet is exhausted; no other acceptable tier at or above the minimum sonnet is available"
    assert d["options"] == [
        "wait for the budget to reset at 2026-11-24T00:00:00Z",
        'switch to haiku only by saying "use haiku, ignore minimum": below the minimum sonnet, quality may degrade',
        "export the context (a summary of the work so far) and continue in a new session",
    ]
    # nothing exhausted: not blocked
    assert not run(UBI, budget=zone("red"))["blocked"]


def test_exhausted_user_override_is_blocked_not_stepped_down() -> None:
    d = run(block("sonnet"), overrides={"force_model": "opus"}, budget=zone("red", exhausted_tiers=["opus"]))
    assert d["blocked"] and "a user override is not stepped down" in d["reason"]
    assert 'switch to sonnet: say "use sonnet"' in d["options"]
    assert d["options"][0] == "wait for the budget to reset"


def test_exhausted_with_mode_off_or_no_downgrade_is_blocked() -> None:
    off = make_config(session={"conservation_mode": "off"})
    assert run(UBI, config=off, budget=zone("red", exhausted_tiers=["opus"]))["blocked"]
    assert run(dict(UBI, allow_downgrade=False), budget=zone("red", exhausted_tiers=["opus"]))["blocked"]


# ---------------------------------------------------------------- hard cap


def tokens_budget(remaining: int, limit: int = 100_000, key: str = "tokens", window: str = "weekly") -> dict[str, Any]:
    return {"window": window, "key": key, "limit": limit, "used": limit - remaining, "remaining": remaining,
            "share": (limit - remaining) / limit, "reset_at": "2026-11-24T00:00:00Z", "source": "local"}


EST = {"input": [2000, 5000], "output": [500, 1500], "tool_calls": [3, 8], "total_estimate": [8000, 10000]}


def test_hard_cap_uses_the_safety_margin() -> None:
    blk = block("sonnet", "haiku", estimated_tokens=EST)
    # 10000 x 1.3 = 13000 > 12000: does not fit at sonnet -> haiku? the tokens budget binds every tier,
    # so nothing fits: blocked
    d = run(blk, budget=zone("green", budgets=[tokens_budget(12_000)]))
    assert d["blocked"] and "13,000 tokens exceeds the 12,000 left of weekly tokens" in d["reason"]
    # 13000 <= 13000: fits
    d = run(blk, budget=zone("green", budgets=[tokens_budget(13_000)]))
    assert d["tier"] == "sonnet" and not d["blocked"]
    cap = next(s for s in d["steps"] if s["step"] == "hard_cap")
    assert "10,000 × 1.3 = 13,000 tokens fits at sonnet" in cap["note"]
    # a margin of 1.0 from config lets 12000 through
    d = run(blk, config=make_config(hard_caps={"safety_margin": 1.0}), budget=zone("green", budgets=[tokens_budget(12_000)]))
    assert d["tier"] == "sonnet"


def test_hard_cap_input_plus_output_when_no_total() -> None:
    blk = block("sonnet", "haiku", estimated_tokens={"input": [2000, 5000], "output": [500, 1500]})
    # (5000 + 1500) x 1.3 = 8450
    assert run(blk, budget=zone("green", budgets=[tokens_budget(8_450)]))["tier"] == "sonnet"
    assert run(blk, budget=zone("green", budgets=[tokens_budget(8_449)]))["blocked"]


def test_hard_cap_opus_tokens_steps_down_to_the_next_tier_that_fits() -> None:
    blk = dict(UBI, estimated_tokens=EST)
    budget = zone("green", budgets=[tokens_budget(5_000, key="opus_tokens"), tokens_budget(90_000)])
    d = run(blk, budget=budget)
    assert d["tier"] == "sonnet" and not d["blocked"]
    assert "hard cap: opus: estimate 13,000 tokens exceeds the 5,000 left of weekly opus_tokens → sonnet" in d["reason"]
    # with enough opus tokens it stays
    budget = zone("green", budgets=[tokens_budget(50_000, key="opus_tokens")])
    assert run(blk, budget=budget)["tier"] == "opus"


def test_hard_cap_blocks_when_even_the_minimum_does_not_fit() -> None:
    blk = dict(UBI, estimated_tokens=EST)
    d = run(blk, budget=zone("green", budgets=[tokens_budget(1_000)]))
    assert d["blocked"] and d["reason"].startswith("blocked: hard cap:")
    assert d["options"][0].startswith("run at opus anyway")
    assert "export the context (a summary of the work so far) and continue in a new session" in d["options"]
    # no lower tier fits: no switch option
    assert not any(o.startswith("switch") for o in d["options"])


def test_hard_cap_does_not_step_down_a_user_override() -> None:
    blk = block("sonnet", "haiku", estimated_tokens=EST)
    budget = zone("green", budgets=[tokens_budget(5_000, key="opus_tokens")])
    d = run(blk, overrides={"force_model": "opus", "source_text": {"force_model": "use opus for everything"}}, budget=budget)
    assert d["blocked"] and "a user override is not stepped down" in d["reason"]
    assert 'switch to sonnet: say "use sonnet"' in d["options"]
    # the same budget without the override: sonnet fits, nothing happens
    assert run(blk, budget=budget)["tier"] == "sonnet"


def test_hard_cap_total_spend_uses_the_tier_price() -> None:
    blk = block("opus", "haiku", estimated_tokens={"input": [1000, 8000], "output": [100, 2000]})
    # 10000 x 1.3 = 13000 tokens; opus blended (8000*5 + 2000*25)/10000 = $9/M -> $0.117; sonnet $5.4/M -> $0.0702
    spend = {"window": "monthly", "key": "total_spend", "limit": 10.0, "used": 9.9, "remaining": 0.1,
             "share": 0.99, "reset_at": None, "source": "local"}
    d = run(blk, budget=zone("green", budgets=[spend]))
    assert d["tier"] == "sonnet"
    assert "$0.12 (13,000 tokens) exceeds the $0.10 left of monthly total_spend" in d["reason"]
    spend_ok = dict(spend, remaining=0.2)
    assert run(blk, budget=zone("green", budgets=[spend_ok]))["tier"] == "opus"


def test_hard_cap_without_a_price_says_the_spend_cap_was_not_checked() -> None:
    config = make_config()
    for t in config["tiers"]:
        t["price_per_mtok"] = None
    spend = {"window": "monthly", "key": "total_spend", "limit": 10.0, "used": 9.99, "remaining": 0.01,
             "share": 0.999, "reset_at": None, "source": "local"}
    d = run(block("opus", "haiku", estimated_tokens=EST), config=config, budget=zone("green", budgets=[spend]))
    assert d["tier"] == "opus"
    assert any("monthly total_spend cap could not be checked for opus" in w for w in d["warnings"])


def test_priority_reserve_holds_back_budget_from_non_reserved_demands() -> None:
    config = make_config(priority_reserve={"share": 0.2, "reasoning_demand": ["high"]})
    # 30000 left of 100000, reserve 20000 -> 10000 usable for medium; need 13000
    budget = zone("green", budgets=[tokens_budget(30_000)])
    d = run(block("sonnet", "haiku", estimated_tokens=EST), config=config, budget=budget)
    assert d["blocked"] and "after the 20% priority reserve" in d["reason"]
    # high demand is the reserve's beneficiary: the whole 30000 is usable
    d = run(block("sonnet", "haiku", estimated_tokens=EST, reasoning_demand="high"), config=config, budget=budget)
    assert d["tier"] == "sonnet" and not d["blocked"]
    # no reserve: medium fits too
    assert run(block("sonnet", "haiku", estimated_tokens=EST), budget=budget)["tier"] == "sonnet"


def test_no_estimate_or_no_remaining_figure_skips_the_hard_cap() -> None:
    d = run(block("opus"), budget=zone("green", budgets=[tokens_budget(0)]))
    assert d["tier"] == "opus"
    assert any(s["step"] == "hard_cap" and "no estimated_tokens" in s["note"] for s in d["steps"])
    d = run(block("opus", estimated_tokens=EST), budget=zone("green", budgets=[{"window": "weekly", "key": "opus_messages", "remaining": 0}]))
    assert d["tier"] == "opus"


# ---------------------------------------------------------------- purity


def test_decide_is_pure_and_deterministic() -> None:
    config = make_config(overrides={"some-skill": {"preferred": "opus", "reason": "x"}})
    blk = dict(UBI, estimated_tokens=EST)
    overrides: dict[str, Any] = {"force_model": None, "skill_models": {}, "ignore_minimum": False, "source_text": {}}
    budget = zone("yellow", budgets=[tokens_budget(50_000)])
    snapshot = copy.deepcopy((blk, config, overrides, budget))
    first = run(blk, config=config, overrides=overrides, budget=budget, text="hydration")
    second = run(blk, config=config, overrides=overrides, budget=budget, text="hydration")
    assert first == second
    assert (blk, config, overrides, budget) == snapshot


@pytest.mark.parametrize("bad_block", [{"preferred": "gpt4"}, {"preferred": None}])
def test_a_block_with_an_undefined_preferred_is_routed_as_blockless(bad_block: dict[str, Any]) -> None:
    d = run(bad_block)
    assert d["tier"] == "sonnet" and d["warnings"]


def test_minimum_above_preferred_never_undercuts_the_minimum() -> None:
    d = run(block("haiku", "opus"))
    assert d["tier"] == "opus" and any("minimum opus is above preferred haiku" in w for w in d["warnings"])


def test_reserved_demands_see_the_priority_zone() -> None:
    # ledger.budget.state: "zone" is computed against the budget minus the reserve,
    # "priority_zone" against the whole budget; high demand is what the reserve is for
    budget = zone("red", priority_zone="green", binding={"label": "weekly tokens at 95%"},
                  priority_binding={"label": "weekly tokens at 76%"})
    d = run(UBI, budget=budget)
    assert d["zone"] == "green" and d["tier"] == "opus"
    d = run(block("opus", "haiku", reasoning_demand="medium"), budget=budget)
    assert d["zone"] == "red" and d["tier"] == "haiku" and d["binding"] == "weekly tokens at 95%"
    config = make_config(priority_reserve={"share": 0.2, "reasoning_demand": ["medium"]})
    assert run(UBI, budget=budget, config=config)["zone"] == "red"


def test_a_common_decision_stays_off_re() -> None:
    # no regex on the common path: a decision with conditions and signals, its
    # audit lines and a prompt without a tier word compile no pattern (checked
    # as "re is never imported" in a process that does not import json, which
    # imports re itself)
    import subprocess
    import sys

    code = """
import sys
from tierwise.hot.routing.decide import decide
from tierwise.hot.routing.audit import render_route
from tierwise.hot.routing.overrides import parse_prompt
cfg = {"tiers": [{"name": n, "models": {"claude_code": n}} for n in ("haiku", "sonnet", "opus")], "session": {}}
blk = {"preferred": "opus", "minimum": "sonnet", "reasoning_demand": "high", "conditions": [
    {"when": "issue involves state management, hydration, or race conditions", "hold_at": "opus"},
    {"when": "(stack trace, multi-file, code block, long request)", "downgrade_to": "sonnet"}]}
text = "Fix the hydration bug in src/a.tsx and src/b.tsx\\n```\\nx\\n```\\nTypeError: y\\n    at f (a.js:1:2)"
ov = parse_prompt(text, ["ui-bug-investigator"])
d = decide("ui-bug-investigator", blk, "specialist", cfg, ov, {"zone": "yellow"}, text)
render_route(d)
print(repr(["re" in sys.modules, d["tier"]]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[False, 'opus']"
    # and a prompt that does name a tier is parsed (with re) all the same
    code2 = "import sys; from tierwise.hot.routing.overrides import parse_prompt; print(parse_prompt('use opus', [])['prompt_model'], 're' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code2], capture_output=True, text=True, check=True).stdout.split() == ["opus", "True"]
