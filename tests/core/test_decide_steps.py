"""Each step of the decision pipeline (routing/decide.py ``STEPS``) run alone on
a hand-made state: what it returns (only the keys it changes), and that it
changes nothing it was given. The rules themselves are in docs/routing.md;
tests/core/test_decide.py checks them through ``decide()``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tierwise.hot.routing import decide as d

DOCS = Path(__file__).resolve().parents[2] / "docs"


def make_config(**changes: Any) -> dict[str, Any]:
    prices = {"haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (5.0, 25.0)}
    config: dict[str, Any] = {
        "tiers": [{"name": n, "models": {"claude_code": f"claude-{n}", "qwen_code": f"qwen-{n}"},
                   "price_per_mtok": {"input": prices[n][0], "output": prices[n][1]}} for n in prices],
        "defaults": {"coordinator": "haiku", "specialist": "sonnet"},
        "priority_reserve": {"share": 0.0, "reasoning_demand": ["high"]},
        "hard_caps": {"safety_margin": 1.3},
        "overrides": {},
        "session": {},
    }
    config.update(changes)
    return config


def blk(preferred: str = "opus", minimum: str = "sonnet", acceptable: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A block as apply_project_override leaves it (every key, checked)."""
    out: dict[str, Any] = {
        "preferred": preferred, "minimum": minimum,
        "acceptable": acceptable if acceptable is not None else ["sonnet", "opus"],
        "allow_upgrade": True, "allow_downgrade": True, "reasoning_demand": "medium",
        "estimated_tokens": None, "conditions": [],
    }
    out.update(extra)
    return out


def state(*, block: dict[str, Any] | None = None, role: str = "specialist", config: dict[str, Any] | None = None,
          overrides: dict[str, Any] | None = None, budget: dict[str, Any] | None = None, text: str = "",
          platform: str = "claude_code", **changes: Any) -> d.State:
    """initial_state for skill "s", then the given keys set as earlier steps would have."""
    s = d.initial_state("s", block, role, config or make_config(), overrides, budget or {"zone": "green"}, text, platform)
    s.update(changes)  # type: ignore[typeddict-item]
    return s


KEYS = set(state())


def snapshot(s: d.State) -> str:
    """Everything reachable from the state (the config too), as text."""
    return json.dumps({**s, "ctx": [id(s["ctx"]), s["ctx"].config, s["ctx"].order]}, default=repr)


def run(step: d.Step, s: d.State) -> dict[str, Any]:
    """The step's result, checked: only state keys, and the state it read unchanged."""
    before = snapshot(s)
    out = step(s)
    assert snapshot(s) == before, f"{step.__name__} changed its input"
    assert set(out) <= KEYS, set(out) - KEYS
    return dict(out)


def notes(out: dict[str, Any]) -> list[tuple[str, object, str]]:
    return [(st["step"], st["value"], st["note"]) for st in out.get("steps", ())]


# ------------------------------------------------------------------ the pipeline


def test_the_pipeline_is_one_tuple_of_steps_in_the_documented_order() -> None:
    names = [f.__name__ for f in d.STEPS]
    assert names == [
        "resolve_mode", "apply_project_override", "pick_zone", "find_user_override", "refuse_upgrade",
        "apply_minimum", "apply_conditions", "apply_budget", "note_preferred", "use_session_default",
        "use_platform_default", "step_down_exhausted", "check_hard_cap", "pick_model",
    ]
    # docs/ARCHITECTURE.md lists the same steps in the same order
    text = (DOCS / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text[text.index("### Decision"):]
    section = section[:section.index("\n## ")]
    documented = [n for n in re.findall(r"`(\w+)`", section) if n in names]
    assert documented == names


def test_initial_state_normalizes_the_arguments_and_sets_every_key() -> None:
    s = d.initial_state("s", None, "boss", make_config(), "not a dict", {"zone": "purple", "exhausted_tiers": ["opus", "gpt4"],
                        "budgets": [{"key": "tokens"}, "x"], "binding": {"label": "weekly at 80%"}}, None, "qwen")  # type: ignore[arg-type]
    assert (s["role"], s["platform"], s["request_text"], s["overrides"]) == ("specialist", "qwen_code", "", {})
    assert (s["zone"], s["binding"], s["exhausted"], s["entries"]) == ("green", "weekly at 80%", ["opus"], [{"key": "tokens"}])
    assert (s["tier"], s["head"], s["steps"], s["warnings"], s["options"]) == (None, "", (), (), ())
    assert s["reserved_demands"] == ["high"] and s["ignore_minimum"] is False


def test_to_decision_sorts_the_steps_by_precedence_and_marks_a_block() -> None:
    s = state(block=blk(), blk=blk(), tier="opus", model="claude-opus", head="why", triggers={"upgrade": ("u",), "downgrade": ()},
              steps=({"step": "preferred", "value": "opus", "note": "p"}, {"step": "budget", "value": None, "note": "b1"},
                     {"step": "user_override", "value": None, "note": "none"}, {"step": "budget", "value": "x", "note": "b2"}),
              warnings=("w",), options=("o",))
    out = d.to_decision(s)
    assert [st["note"] for st in out["steps"]] == ["none", "b1", "b2", "p"]
    assert (out["tier"], out["model"], out["reason"], out["blocked"]) == ("opus", "claude-opus", "why", False)
    assert out["warnings"] == ["w"] and out["options"] == ["o"] and out["triggers"] == {"upgrade": ["u"], "downgrade": []}
    assert "wanted" not in out
    blocked = d.to_decision({**s, "blocked_why": "opus is exhausted; x"})
    assert (blocked["tier"], blocked["model"], blocked["blocked"], blocked["wanted"]) == (None, None, True, "opus")
    assert blocked["reason"] == "blocked: opus is exhausted; x" and list(blocked)[-1] == "wanted"


def test_every_step_leaves_its_input_alone_across_the_grid() -> None:
    # the decisions of tests/core/test_decide_golden.py's grid, one step at a time
    from importlib import util

    spec = util.spec_from_file_location("decide_grid", Path(__file__).with_name("test_decide_golden.py"))
    assert spec is not None and spec.loader is not None
    grid = util.module_from_spec(spec)
    spec.loader.exec_module(grid)
    for case in grid.cases()[::61]:
        args = grid.inputs(case)
        s = d.initial_state(**args)
        for step in d.STEPS:
            s.update(run(step, s))  # type: ignore[typeddict-item]
        assert d.to_decision(s) == d.decide(**args)


# ------------------------------------------------------------------ one test per step


def test_resolve_mode() -> None:
    assert run(d.resolve_mode, state()) == {"mode": "auto", "mode_source": "built-in default"}
    assert run(d.resolve_mode, state(config=make_config(defaults={"conservation_mode": "aggressive"}))) == {
        "mode": "aggressive", "mode_source": "config defaults"}
    both = make_config(defaults={"conservation_mode": "aggressive"}, session={"conservation_mode": "off"})
    assert run(d.resolve_mode, state(config=both)) == {"mode": "off", "mode_source": "session"}
    out = run(d.resolve_mode, state(config=make_config(session={"conservation_mode": "turbo"}), warnings=("earlier",)))
    assert (out["mode"], out["mode_source"]) == ("auto", "built-in default")
    assert out["warnings"] == ("earlier", "conservation_mode 'turbo' is not one of off, auto, aggressive; using auto")


def test_apply_project_override() -> None:
    config = make_config(overrides={"s": {"preferred": "opus", "reason": "complex codebase"}})
    out = run(d.apply_project_override, state(block={"preferred": "haiku", "acceptable": ["haiku"]}, config=config))
    assert out["project_reason"] == "complex codebase"
    # no minimum in the block: the minimum is preferred; the new preferred joins acceptable
    assert out["blk"] == blk("opus", "opus", ["haiku", "opus"]) and out["warnings"] == ()
    out = run(d.apply_project_override, state(block={"preferred": "gpt4"}))
    assert out["blk"] is None and out["project_reason"] is None and "'gpt4' is not a defined tier" in out["warnings"][0]


def test_pick_zone() -> None:
    budget = {"zone": "red", "priority_zone": "green", "binding": {"label": "95%"}, "priority_binding": {"label": "76%"}}
    assert run(d.pick_zone, state(budget=budget, blk=blk(reasoning_demand="high"))) == {"zone": "green", "binding": "76%"}
    assert run(d.pick_zone, state(budget=budget, blk=blk(reasoning_demand="medium"))) == {}
    assert run(d.pick_zone, state(budget=budget, blk=None)) == {}


def test_find_user_override() -> None:
    overrides = {"force_model": "gpt4", "prompt_model": "haiku", "source_text": {"prompt_model": "using haiku"}}
    out = run(d.find_user_override, state(overrides=overrides, config=make_config(session={"force_model": "opus"})))
    assert out["user_tier"] == "haiku"
    assert out["user_override"] == {"tier": "haiku", "scope": "inline prompt override", "text": "using haiku"}
    assert notes(out) == [("user_override", "haiku", 'inline prompt override: "using haiku"')]
    assert out["warnings"] == ()  # the prompt override ranks above the bad force_model, which is never looked at
    out = run(d.find_user_override, state(overrides={"force_model": "gpt4"}))
    assert "user_tier" not in out and notes(out) == [("user_override", None, "none")]
    assert out["warnings"] == ("inline force_model 'gpt4' ignored: not a defined tier (haiku, sonnet, opus)",)


def test_refuse_upgrade() -> None:
    record = {"tier": "opus", "scope": "inline force_model", "text": None}
    s = state(blk=blk("sonnet", "haiku", allow_upgrade=False), user_tier="opus", user_override=record)
    out = run(d.refuse_upgrade, s)
    assert out["user_tier"] is None and out["user_override"] == {**record, "refused": True}
    assert out["refused_upgrade"] == "user override opus refused (allow_upgrade: false, above preferred sonnet)"
    assert notes(out) == [("allow_upgrade", "sonnet", "allow_upgrade: false refuses opus, above preferred sonnet")]
    assert run(d.refuse_upgrade, {**s, "user_tier": "sonnet"}) == {}  # not above preferred: no upgrade
    assert run(d.refuse_upgrade, {**s, "blk": blk("sonnet", "haiku")}) == {}  # upgrades allowed


def test_apply_minimum() -> None:
    b = blk("opus", "sonnet")
    assert run(d.apply_minimum, state(blk=b, user_tier="opus")) == {
        "tier": "opus", "head": "user override, above minimum",
        "steps": ({"step": "minimum", "value": "sonnet", "note": "override opus is at or above the minimum"},)}
    out = run(d.apply_minimum, state(blk=b, user_tier="haiku"))
    assert (out["tier"], out["head"]) == ("sonnet", "user override haiku below minimum, raised to minimum sonnet")
    out = run(d.apply_minimum, state(blk=b, user_tier="haiku", ignore_minimum=True, ignore_said="ignore minimum"))
    assert (out["tier"], out["head"]) == ("haiku", "user override, below minimum (ignore minimum): quality may degrade")
    assert notes(out) == [("minimum", "sonnet", 'lifted: the user said ignore minimum ("ignore minimum")')]
    assert out["warnings"] == ('quality warning: s runs at haiku, below its minimum sonnet; the user said ignore minimum ("ignore minimum")',)
    out = run(d.apply_minimum, state(blk=b, project_reason="complex"))
    assert out == {"steps": ({"step": "minimum", "value": "sonnet", "note": "floor for the budget and conditions (project override: complex)"},)}
    assert run(d.apply_minimum, state(user_tier="opus")) == {
        "tier": "opus", "head": "user override, no model block",
        "steps": ({"step": "minimum", "value": None, "note": "no model block: no minimum"},)}
    assert "tier" not in run(d.apply_minimum, state())


def test_apply_conditions() -> None:
    b = blk("opus", "sonnet", conditions=[
        {"when": "(missing import)", "downgrade_to": "sonnet"},
        {"when": "involves hydration", "hold_at": "opus"},
        {"when": "typo"}])
    out = run(d.apply_conditions, state(blk=b, text="a missing import"))
    assert (out["base"], out["hold_floor"], out["cond_head"]) == ("sonnet", None, 'condition downgrade_to sonnet ("missing import")')
    assert out["triggers"] == {"upgrade": (), "downgrade": ('"missing import" → sonnet',)}
    assert notes(out) == [("condition", "sonnet", 'downgrade_to sonnet matched "missing import": lowered to sonnet')]
    assert out["warnings"] == ("condition 2 of s ignored: it needs hold_at or downgrade_to naming a defined tier",)
    out = run(d.apply_conditions, state(blk=b, text="missing import breaks hydration"))
    assert (out["base"], out["hold_floor"], out["cond_head"]) == ("opus", "opus", "")
    assert [n for _, _, n in notes(out)] == ['hold_at opus matched "hydration": held against yellow-zone downgrades',
                                            'downgrade_to sonnet matched "missing import" but hold_at opus takes precedence']
    out = run(d.apply_conditions, state(blk=b, text="something else"))
    assert out["base"] == "opus" and notes(out) == [("condition", None, "no condition matched the request")]
    assert run(d.apply_conditions, state(blk=blk(), text="x"))["triggers"] is None  # no conditions: no triggers
    assert run(d.apply_conditions, state(blk=b, user_tier="opus", text="a missing import")) == {}
    assert run(d.apply_conditions, state(text="a missing import")) == {}


def test_apply_budget() -> None:
    b = blk("opus", "haiku", ["haiku", "sonnet", "opus"])
    red = state(blk=b, base="opus", zone="red", triggers={"upgrade": (), "downgrade": ()})
    out = run(d.apply_budget, red)
    assert (out["tier"], out["head"]) == ("haiku", "budget downgrade from opus: red zone → minimum")
    assert out["triggers"]["downgrade"] == ("red zone → haiku",)
    assert notes(out) == [("budget", "haiku", "red zone → minimum: opus → haiku (mode auto from built-in default)")]
    out = run(d.apply_budget, {**red, "blk": {**b, "allow_downgrade": False}})
    assert out["tier"] == "opus" and out["head"] == "preferred model, allow_downgrade: false refuses the red-zone downgrade to haiku"
    assert [n[0] for n in notes(out)] == ["budget", "allow_downgrade"]
    # yellow, high demand: held, with an offer
    high = state(blk={**b, "reasoning_demand": "high"}, base="opus", zone="yellow")
    out = run(d.apply_budget, high)
    assert out["head"] == "preferred model, high reasoning demand held in yellow zone; offer: sonnet"
    assert out["options"] == ('accept sonnet: say "use sonnet" (quality impact: noticeable for a high reasoning demand skill)',
                              "pause until the budget resets")
    # green, after a refused upgrade and a condition
    out = run(d.apply_budget, state(blk=b, base="sonnet", cond_head="condition downgrade_to sonnet (\"x\")",
                                    refused_upgrade="user override opus refused (…)"))
    assert out["head"] == 'user override opus refused (…); condition downgrade_to sonnet ("x"), budget available'
    # a user override ranks above the budget; without a block only coordinators move
    assert notes(run(d.apply_budget, state(blk=b, user_tier="opus", zone="red"))) == [
        ("budget", None, "not applied: a user override ranks above the budget (red zone)")]
    coordinator = state(role="coordinator", zone="yellow", config=make_config(defaults={"coordinator": "sonnet"}))
    out = run(d.apply_budget, coordinator)
    assert (out["tier"], out["head"]) == ("haiku", "budget downgrade from sonnet: yellow zone, coordinator → haiku")
    assert "tier" not in run(d.apply_budget, state(zone="yellow"))


def test_note_preferred() -> None:
    assert notes(run(d.note_preferred, state(blk=blk(), project_reason="r"))) == [
        ("preferred", "opus", "the skill's preferred tier (project override: r)")]
    assert notes(run(d.note_preferred, state(blk=blk(), user_tier="haiku"))) == [
        ("preferred", "opus", "outranked by the user override")]
    assert notes(run(d.note_preferred, state())) == [("preferred", None, "no model block")]
    assert run(d.note_preferred, state(user_tier="opus")) == {}


def test_use_session_default() -> None:
    assert run(d.use_session_default, state()) == {
        "tier": "sonnet", "head": "no model block: session default for specialists",
        "steps": ({"step": "session_default", "value": "sonnet", "note": "defaults.specialist"},)}
    moved = run(d.use_session_default, state(role="coordinator", tier="mini"))  # the budget already chose
    assert "tier" not in moved and notes(moved) == [("session_default", "haiku", "defaults.coordinator")]
    unset = run(d.use_session_default, state(config=make_config(defaults={})))
    assert unset == {"steps": ({"step": "session_default", "value": None, "note": "defaults.specialist is not set to a defined tier"},)}
    assert run(d.use_session_default, state(blk=blk())) == {} == run(d.use_session_default, state(user_tier="opus"))


def test_use_platform_default() -> None:
    out = run(d.use_platform_default, state(platform="qwen"))
    assert out["head"] == "no model block and no session default: platform default (Qwen Code's own model)"
    assert notes(out) == [("platform_default", None, "Qwen Code's own model: tierwise sets none")] and "tier" not in out
    assert run(d.use_platform_default, state(tier="sonnet")) == {}
    assert run(d.use_platform_default, state(blk=blk())) == {}


def test_step_down_exhausted() -> None:
    budget = {"zone": "green", "exhausted_tiers": ["opus"],
              "budgets": [{"key": "opus_messages", "remaining": 0, "reset_at": "2026-11-24T00:00:00Z"}]}
    s = state(blk=blk(), budget=budget, tier="opus", head="preferred model, budget available")
    out = run(d.step_down_exhausted, s)
    assert (out["tier"], out["head"]) == ("sonnet", "preferred model, budget available; opus exhausted → sonnet")
    assert notes(out) == [("budget", "sonnet", "opus is exhausted: stepped down to sonnet within acceptable")]
    out = run(d.step_down_exhausted, {**s, "user_tier": "opus"})
    assert out["blocked_why"] == "opus is exhausted; a user override is not stepped down" and "tier" not in out
    assert out["options"] == ("wait for the budget to reset at 2026-11-24T00:00:00Z", 'switch to sonnet: say "use sonnet"',
                              d.EXPORT_OPTION)
    assert run(d.step_down_exhausted, {**s, "tier": "sonnet"}) == {}


def test_check_hard_cap() -> None:
    est = {"input": [2000, 5000], "output": [500, 1500], "total_estimate": [8000, 10000]}
    budget = {"zone": "green", "budgets": [{"window": "weekly", "key": "opus_tokens", "limit": 100_000, "remaining": 5_000},
                                           {"window": "weekly", "key": "tokens", "limit": 100_000, "remaining": 90_000}]}
    s = state(blk=blk(estimated_tokens=est), budget=budget, tier="opus", head="h")
    out = run(d.check_hard_cap, s)
    assert out["tier"] == "sonnet"
    assert out["head"] == "h; hard cap: opus: estimate 13,000 tokens exceeds the 5,000 left of weekly opus_tokens → sonnet"
    fits = run(d.check_hard_cap, {**s, "tier": "sonnet"})
    assert notes(fits) == [("hard_cap", None, "upper estimate 10,000 × 1.3 = 13,000 tokens fits at sonnet (13,000 <= 90,000 weekly tokens)")]
    blocked = run(d.check_hard_cap, {**s, "user_tier": "opus"})
    assert blocked["blocked_why"].endswith("; a user override is not stepped down")
    assert blocked["options"][0] == "run at opus anyway (opus: estimate 13,000 tokens exceeds the 5,000 left of weekly opus_tokens)"
    assert notes(run(d.check_hard_cap, {**s, "blk": blk()})) == [("hard_cap", None, "no estimated_tokens: nothing to check")]
    assert run(d.check_hard_cap, {**s, "blocked_why": "opus is exhausted; x"}) == {}


def test_pick_model() -> None:
    assert run(d.pick_model, state(tier="sonnet", platform="qwen")) == {"model": "qwen-sonnet"}
    assert run(d.pick_model, state(tier="sonnet", platform="codex")) == {
        "warnings": ("tier sonnet has no model id for codex in the config tiers",)}
    assert run(d.pick_model, state(tier="sonnet", blocked_why="x")) == {} == run(d.pick_model, state())


@pytest.mark.parametrize("step", d.STEPS, ids=lambda f: f.__name__)
def test_every_step_has_its_own_test(step: d.Step) -> None:
    assert f"test_{step.__name__}" in globals()
