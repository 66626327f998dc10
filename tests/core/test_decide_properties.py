"""Property tests of the decision over random blocks, budgets and overrides."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.hot.routing.decide import decide

TIERS = ["haiku", "sonnet", "opus"]
RANK = {t: i for i, t in enumerate(TIERS)}


def config(mode: str | None, session: dict[str, Any], share: float) -> dict[str, Any]:
    return {
        "tiers": [
            {"name": t, "models": {"claude_code": f"m-{t}"}, "cost_ratio": 5**i,
             "price_per_mtok": {"input": 1.0 * 5**i, "output": 5.0 * 5**i}}
            for i, t in enumerate(TIERS)
        ],
        "defaults": {"coordinator": "haiku", "specialist": "sonnet", "conservation_mode": mode or "auto"},
        "priority_reserve": {"share": share, "reasoning_demand": ["high"]},
        "hard_caps": {"safety_margin": 1.3},
        "overrides": {},
        "session": session,
    }


tier = st.sampled_from(TIERS)
maybe_tier = st.none() | tier


@st.composite
def blocks(draw: Any) -> dict[str, Any]:
    minimum = draw(tier)
    preferred = draw(st.sampled_from(TIERS[RANK[minimum]:]))
    acceptable = sorted(set(draw(st.lists(tier, max_size=3))) | {preferred}, key=RANK.__getitem__)
    conditions = draw(st.lists(
        st.fixed_dictionaries({"when": st.sampled_from(["involves hydration", "typo", "(stack trace)", "long request"]),
                               draw(st.sampled_from(["hold_at", "downgrade_to"])): tier}),
        max_size=2))
    hi = draw(st.integers(1_000, 60_000))
    return {
        "preferred": preferred, "minimum": minimum, "acceptable": acceptable,
        "allow_upgrade": draw(st.booleans()), "allow_downgrade": draw(st.booleans()),
        "reasoning_demand": draw(st.sampled_from(["low", "medium", "high", "variable"])),
        "estimated_tokens": draw(st.none() | st.just({"total_estimate": [hi // 2, hi]})),
        "conditions": conditions,
    }


@st.composite
def budgets(draw: Any) -> dict[str, Any]:
    entries = []
    for key in draw(st.lists(st.sampled_from(["tokens", "opus_tokens", "total_spend", "opus_messages"]), max_size=3, unique=True)):
        limit = draw(st.integers(1, 200_000)) if key != "total_spend" else draw(st.floats(0.01, 50))
        remaining = draw(st.floats(-10, 1)) * limit
        entries.append({"window": "weekly", "key": key, "limit": limit, "used": limit - remaining,
                        "remaining": remaining, "reset_at": None})
    return {"zone": draw(st.sampled_from(["green", "yellow", "red"])), "binding": None,
            "budgets": entries, "exhausted_tiers": draw(st.lists(tier, max_size=3, unique=True))}


@settings(max_examples=400, deadline=None)
@given(
    blk=st.none() | blocks(),
    role=st.sampled_from(["coordinator", "specialist"]),
    budget=budgets(),
    mode=st.sampled_from([None, "off", "auto", "aggressive"]),
    session_mode=st.sampled_from([None, "off", "auto", "aggressive"]),
    session_force=maybe_tier,
    session_skill=maybe_tier,
    session_ignore=st.booleans(),
    force=maybe_tier,
    prompt=maybe_tier,
    skill_model=maybe_tier,
    ignore=st.booleans(),
    share=st.sampled_from([0.0, 0.2]),
    text=st.sampled_from(["", "hydration mismatch", "fix the typo", "x" * 5000,
                          'Traceback (most recent call last):\n  File "a.py", line 1\nKeyError: 1']),
)
def test_never_below_minimum_and_always_a_tier_or_blocked(
    blk: dict[str, Any] | None, role: str, budget: dict[str, Any], mode: str | None, session_mode: str | None,
    session_force: str | None, session_skill: str | None, session_ignore: bool, force: str | None,
    prompt: str | None, skill_model: str | None, ignore: bool, share: float, text: str,
) -> None:
    session = {"force_model": session_force, "conservation_mode": session_mode,
               "skill_overrides": {"s": session_skill} if session_skill else {}, "ignore_minimum": session_ignore}
    overrides = {"force_model": force, "prompt_model": prompt,
                 "skill_models": {"s": skill_model} if skill_model else {}, "ignore_minimum": ignore, "source_text": {}}
    d = decide("s", blk, role, config(mode, session, share), overrides, budget, text)

    if d["blocked"]:
        assert d["tier"] is None and d["model"] is None
        assert d["options"], "a blocked decision carries options"
        return
    assert d["tier"] in TIERS
    assert d["model"] == f"m-{d['tier']}"
    assert d["tier"] not in budget["exhausted_tiers"], "an exhausted tier is never chosen"
    if blk is not None and not (ignore or session_ignore):
        assert RANK[d["tier"]] >= RANK[blk["minimum"]], d
    user = any([force, prompt, skill_model, session_force, session_skill])
    if blk is not None and not user and not blk["conditions"]:
        assert d["tier"] in blk["acceptable"], d
    assert [s["step"] for s in d["steps"]][0] == "user_override"
