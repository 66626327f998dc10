"""The §5.3 [ROUTE] lines, from real decide() calls."""

from __future__ import annotations

from typing import Any

from tierwise.hot.routing.audit import render_route
from tierwise.hot.routing.decide import decide
from tierwise.hot.routing.overrides import parse_prompt


def config(**session: Any) -> dict[str, Any]:
    return {
        "tiers": [
            {"name": "haiku", "models": {"claude_code": "claude-haiku-4-5"}, "cost_ratio": 1, "price_per_mtok": None},
            {"name": "sonnet", "models": {"claude_code": "claude-sonnet-4-6"}, "cost_ratio": 5, "price_per_mtok": None},
            {"name": "opus", "models": {"claude_code": "claude-opus-4-6"}, "cost_ratio": 25, "price_per_mtok": None},
        ],
        "zones": {"yellow": 0.70, "red": 0.90},
        "defaults": {"coordinator": "haiku", "specialist": "sonnet", "reference_loading": "haiku", "conservation_mode": "auto"},
        "priority_reserve": {"share": 0.0, "reasoning_demand": ["high"]},
        "hard_caps": {"safety_margin": 1.3},
        "overrides": {},
        "session": {"force_model": None, "conservation_mode": None, "skill_overrides": {}, "ignore_minimum": False, **session},
    }


# §1.1's blocks; css-layout-debugger's from §4.1's routing table (sonnet, floor haiku,
# animation/transition issues -> opus)
UI_BUG = {
    "preferred": "opus", "acceptable": ["opus", "sonnet"], "minimum": "sonnet",
    "allow_upgrade": True, "allow_downgrade": True, "reasoning_demand": "high", "estimated_tokens": None,
    "conditions": [
        {"when": "issue is a known pattern (exact CSS property fix, missing import)", "downgrade_to": "sonnet"},
        {"when": "issue involves state management, hydration, or race conditions", "hold_at": "opus"},
    ],
}
MAPPER = {
    "preferred": "haiku", "acceptable": ["haiku", "sonnet"], "minimum": "haiku",
    "allow_upgrade": True, "allow_downgrade": True, "reasoning_demand": "low", "estimated_tokens": None, "conditions": [],
}
CSS = {
    "preferred": "sonnet", "acceptable": ["haiku", "sonnet", "opus"], "minimum": "haiku",
    "allow_upgrade": True, "allow_downgrade": True, "reasoning_demand": "medium", "estimated_tokens": None,
    "conditions": [{"when": "animation or transition issues", "hold_at": "opus"}],
}

GREEN: dict[str, Any] = {"zone": "green", "binding": None, "budgets": [], "exhausted_tiers": []}
YELLOW_78: dict[str, Any] = {
    "zone": "yellow",
    "binding": {"window": "weekly", "key": "opus_messages", "share": 0.78, "label": "weekly opus at 78%"},
    "budgets": [{"window": "weekly", "key": "opus_messages", "limit": 45, "used": 35.1, "remaining": 9.9,
                 "share": 0.78, "reset_at": None, "source": "local"}],
    "exhausted_tiers": [],
}


def test_spec_example_1_ui_bug_investigator_green() -> None:
    d = decide("ui-bug-investigator", UI_BUG, "specialist", config(), {}, GREEN,
               "The checkout button does nothing after the second click")
    assert render_route(d) == (
        "[ROUTE] ui-bug-investigator\n"
        "  Preferred: opus\n"
        "  User override: none\n"
        "  Budget zone: green\n"
        "  Upgrade triggers: none matched\n"
        "  Downgrade triggers: none (green zone)\n"
        "  → Decision: opus (preferred model, budget available)"
    )


def test_spec_example_2_page_component_mapper_yellow() -> None:
    d = decide("page-component-mapper", MAPPER, "specialist", config(), {}, YELLOW_78, "Map the /checkout page")
    assert render_route(d) == (
        "[ROUTE] page-component-mapper\n"
        "  Preferred: haiku\n"
        "  User override: none\n"
        "  Budget zone: yellow (weekly opus at 78%)\n"
        "  → Decision: haiku (preferred model, no downgrade needed)"
    )


def test_spec_example_3_css_layout_debugger_user_override() -> None:
    prompt = "use haiku for everything"
    overrides = parse_prompt(prompt, ["css-layout-debugger"])
    d = decide("css-layout-debugger", CSS, "specialist", config(), overrides, GREEN, prompt)
    assert render_route(d) == (
        "[ROUTE] css-layout-debugger\n"
        "  Preferred: sonnet\n"
        "  User override: \"use haiku for everything\"\n"
        "  Skill minimum: haiku\n"
        "  → Decision: haiku (user override, above minimum)"
    )


def test_condition_matched_lines() -> None:
    d = decide("ui-bug-investigator", UI_BUG, "specialist", config(), {}, GREEN, "a missing import breaks the header")
    text = render_route(d)
    assert "  Upgrade triggers: none matched\n" in text
    assert '  Downgrade triggers: "missing import" → sonnet\n' in text
    assert text.endswith('  → Decision: sonnet (condition downgrade_to sonnet ("missing import"), budget available)')


def test_budget_downgrade_lines() -> None:
    red = dict(YELLOW_78, zone="red", binding={"label": "weekly opus at 93%"})
    d = decide("ui-bug-investigator", UI_BUG, "specialist", config(), {}, red, "the modal flickers")
    assert render_route(d) == (
        "[ROUTE] ui-bug-investigator\n"
        "  Preferred: opus\n"
        "  User override: none\n"
        "  Budget zone: red (weekly opus at 93%)\n"
        "  Skill minimum: sonnet\n"
        "  Upgrade triggers: none matched\n"
        "  Downgrade triggers: red zone → sonnet\n"
        "  → Decision: sonnet (budget downgrade from opus: red zone → minimum)"
    )


def test_high_demand_offer_lines() -> None:
    d = decide("ui-bug-investigator", UI_BUG, "specialist", config(), {}, YELLOW_78, "the modal flickers")
    text = render_route(d)
    assert "  Options:\n    - accept sonnet: say \"use sonnet\"" in text
    assert "    - pause until the budget resets\n" in text
    assert text.endswith("→ Decision: opus (preferred model, high reasoning demand held in yellow zone; offer: sonnet)")


def test_ignore_minimum_lines() -> None:
    prompt = "use haiku for everything, ignore minimum"
    d = decide("ui-bug-investigator", UI_BUG, "specialist", config(), parse_prompt(prompt), GREEN, prompt)
    text = render_route(d)
    assert '  User override: "use haiku for everything"\n  Skill minimum: sonnet\n' in text
    assert "  Warning: quality warning: ui-bug-investigator runs at haiku, below its minimum sonnet" in text
    assert text.endswith("→ Decision: haiku (user override, below minimum (ignore minimum): quality may degrade)")
    assert "Budget zone" not in text


def test_session_config_override_without_a_phrase() -> None:
    d = decide("css-layout-debugger", CSS, "specialist", config(skill_overrides={"css-layout-debugger": "opus"}), {}, GREEN)
    assert "  User override: opus (session-config skill_overrides)\n" in render_route(d)


def test_blocked_and_hard_cap_lines() -> None:
    budget = {"zone": "red", "binding": {"label": "weekly tokens at 99%"}, "exhausted_tiers": [],
              "budgets": [{"window": "weekly", "key": "tokens", "limit": 100_000, "used": 99_000, "remaining": 1_000,
                           "share": 0.99, "reset_at": "2026-11-24T00:00:00Z", "source": "local"}]}
    blk = dict(MAPPER, estimated_tokens={"total_estimate": [2000, 4000]})
    d = decide("page-component-mapper", blk, "specialist", config(), {}, budget, "map it")
    text = render_route(d)
    assert d["blocked"]
    assert "  Hard cap: blocked: haiku: estimate 5,200 tokens exceeds the 1,000 left of weekly tokens" in text
    assert "    - wait for the budget to reset at 2026-11-24T00:00:00Z\n" in text
    assert text.endswith("  → Decision: blocked (hard cap: haiku: estimate 5,200 tokens exceeds the 1,000 left of "
                         "weekly tokens; no acceptable tier at or above the minimum haiku fits)")


def test_blockless_skill_lines() -> None:
    d = decide("notes", None, "specialist", config(), {}, GREEN)
    assert render_route(d) == (
        "[ROUTE] notes\n"
        "  Preferred: none (no model block)\n"
        "  User override: none\n"
        "  Budget zone: green\n"
        "  → Decision: sonnet (no model block: session default for specialists)"
    )


def test_allow_upgrade_refusal_is_shown() -> None:
    blk = dict(MAPPER, allow_upgrade=False)
    prompt = "run page-component-mapper on opus"
    d = decide("page-component-mapper", blk, "specialist", config(), parse_prompt(prompt, ["page-component-mapper"]), GREEN, prompt)
    text = render_route(d)
    assert '  User override: "on opus" (refused: allow_upgrade false)\n  Budget zone: green\n' in text
    assert text.endswith("→ Decision: haiku (user override opus refused (allow_upgrade: false, above preferred haiku); "
                         "preferred model, budget available)")
