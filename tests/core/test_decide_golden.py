"""Characterisation of ``decide()``: a broad generated grid of inputs, each
decision compared with a digest captured from the code when the grid was made
(tests/core/golden/decide_grid.json). Any change of behaviour (tier, reason,
a note, a warning, an option, key order, list vs tuple) fails here, so a
refactoring of decide.py can prove it changes nothing.

The grid: every combination of the core axes (block × user override × zone ×
conservation mode), and for each combination ``SAMPLES`` cases whose secondary
axes (budget entries and exhausted tiers, estimate, role, request text, config
variant, platform, skill name) are picked by a hash of the case: deterministic,
no random module, the same on every Python. ``test_every_secondary_value_meets_every_block``
checks the picks cover each pairing.

Regenerate only when a behaviour change is intended (say so in the commit):

    TIERWISE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/core/test_decide_golden.py

To see what a case was before a change, check out the golden's commit and run
``.venv/bin/python tests/core/test_decide_golden.py CASE_NUMBER`` there (prints
the inputs and the decision as JSON).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tierwise.hot.routing.decide import decide

GOLDEN = Path(__file__).parent / "golden" / "decide_grid.json"
SAMPLES = 2
PRICES = {"mini": (0.2, 1.0), "haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (5.0, 25.0)}


def _tiers(names: list[str], priced: bool = True) -> list[dict[str, Any]]:
    return [
        {"name": n, "models": {"claude_code": f"claude-{n}", "qwen_code": f"qwen-{n}", "codex": None},
         "cost_ratio": 5**i, "description": "",
         "price_per_mtok": {"input": PRICES[n][0], "output": PRICES[n][1]} if priced else None}
        for i, n in enumerate(names)
    ]


def _blk(preferred: Any, minimum: str | None = None, acceptable: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"preferred": preferred}
    if minimum is not None:
        out["minimum"] = minimum
    if acceptable is not None:
        out["acceptable"] = acceptable
    out.update(extra)
    return out


ALL3 = ["haiku", "sonnet", "opus"]

# ------------------------------------------------------------------ core axes

BLOCKS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "bad-preferred": {"preferred": "gpt4"},
    "preferred-null": {"preferred": None},
    "sonnet-medium": _blk("sonnet", "haiku", ALL3, reasoning_demand="medium", allow_upgrade=True, allow_downgrade=True),
    "ubi": _blk("opus", "sonnet", ["opus", "sonnet"], reasoning_demand="high", conditions=[
        {"when": "issue is a known pattern (exact CSS property fix, missing import)", "downgrade_to": "sonnet"},
        {"when": "issue involves state management, hydration, or race conditions", "hold_at": "opus"}]),
    "low-hold": _blk("sonnet", "haiku", ALL3, reasoning_demand="low",
                     conditions=[{"when": "mentions: stack trace", "hold_at": "sonnet"}]),
    "variable-hold": _blk("opus", "haiku", ALL3, reasoning_demand="variable",
                          conditions=[{"when": "involves race conditions", "hold_at": "opus"},
                                      {"when": "typo", "downgrade_to": "haiku"}]),
    "min-above-preferred": _blk("haiku", "opus", ALL3),
    "no-downgrade": _blk("opus", "haiku", ALL3, reasoning_demand="medium", allow_downgrade=False),
    "no-upgrade": _blk("sonnet", "haiku", ALL3, allow_upgrade=False, reasoning_demand="low"),
    "gap": _blk("opus", "haiku", ["haiku", "opus"], reasoning_demand="medium"),
    "down-below-min": _blk("opus", "sonnet", ALL3, reasoning_demand="high",
                           conditions=[{"when": "typo", "downgrade_to": "haiku"}]),
    "bad-conditions": _blk("sonnet", "haiku", ALL3, conditions=[
        {"when": "typo"}, {"when": "typo", "downgrade_to": "gpt4"}, "not a dict",
        {"when": "missing import", "downgrade_to": "haiku"}, {"when": {"min_chars": 10}, "hold_at": "opus"}]),
    "preferred-only": {"preferred": "opus"},
    "high-wide": _blk("opus", "haiku", ALL3, reasoning_demand="high", allow_upgrade=False),
    "high-no-downgrade": _blk("opus", "haiku", ALL3, reasoning_demand="high", allow_downgrade=False),
    "acceptable-misses-preferred": _blk("opus", "haiku", ["haiku"], reasoning_demand="low"),
    "coordinator-like": _blk("sonnet", "haiku", ["haiku", "sonnet"], reasoning_demand="high"),
    "odd-values": _blk("opus", "gpt4", ["gpt4", "sonnet", "opus"], reasoning_demand="extreme", allow_upgrade=None),
    "both-false": _blk("opus", "haiku", ALL3, reasoning_demand="variable", allow_upgrade=False, allow_downgrade=False,
                       conditions=[{"when": "missing import", "downgrade_to": "sonnet"},
                                   {"when": "hydration", "hold_at": "opus"},
                                   {"when": "(code block, multi-file)", "hold_at": "sonnet"}]),
}

# name -> (inline overrides, session-config keys)
OVERRIDES: dict[str, tuple[Any, dict[str, Any]]] = {
    "none": (None, {}),
    "empty": ({"force_model": None, "prompt_model": None, "skill_models": {}, "ignore_minimum": False,
               "source_text": {}}, {}),
    "force-haiku": ({"force_model": "haiku"}, {}),
    "force-opus-said": ({"force_model": "opus", "source_text": {"force_model": "use opus for everything"}}, {}),
    "prompt-sonnet": ({"prompt_model": "sonnet", "source_text": {"prompt_model": "using sonnet"}}, {}),
    "skill-opus": ({"skill_models": {"s": "opus"}, "force_model": "haiku",
                    "source_text": {"skill_models": {"s": "run s using opus"}}}, {}),
    "skill-other": ({"skill_models": {"other": "haiku"}}, {}),
    "bogus-then-prompt": ({"force_model": "gpt4", "prompt_model": "haiku", "skill_models": {"s": ""}}, {}),
    "haiku-ignore-min": ({"force_model": "haiku", "ignore_minimum": True,
                         "source_text": {"ignore_minimum": "ignore minimum"}}, {}),
    "session-force-opus": (None, {"force_model": "opus"}),
    "session-skill-haiku-ignore": (None, {"skill_overrides": {"s": "haiku"}, "force_model": "opus",
                                          "ignore_minimum": True}),
    "inline-over-session": ({"force_model": "sonnet"}, {"force_model": "opus", "skill_overrides": {"s": "haiku"}}),
    "session-bogus": ({"source_text": "not a dict"}, {"force_model": "gpt4", "skill_overrides": "not a dict"}),
    "not-a-dict": ("use opus", {"ignore_minimum": True}),
    "said-nothing": ({"source_text": {"prompt_model": "using opus"}, "ignore_minimum": True}, {"force_model": ""}),
}

ZONES: dict[str, dict[str, Any]] = {
    "green": {"zone": "green"},
    "yellow": {"zone": "yellow", "binding": {"window": "weekly", "key": "opus_messages", "share": 0.78,
                                             "label": "weekly opus at 78%"}},
    "yellow-unbound": {"zone": "yellow"},
    "red": {"zone": "red", "binding": {"label": "weekly tokens at 95%"}},
    "red-priority-green": {"zone": "red", "priority_zone": "green", "binding": {"label": "weekly tokens at 95%"},
                           "priority_binding": {"label": "weekly tokens at 76%"}},
    "yellow-priority-red": {"zone": "yellow", "priority_zone": "red", "priority_binding": {"label": 7}},
    "missing": {},
    "bogus": {"zone": "purple", "binding": "not a dict", "priority_zone": "blue"},
}

# name -> (session conservation_mode, defaults conservation_mode); absent when the value is "absent"
MODES: dict[str, tuple[Any, Any]] = {
    "built-in": (None, "absent"),
    "defaults-auto": (None, "auto"),
    "defaults-aggressive": (None, "aggressive"),
    "session-off": ("off", "aggressive"),
    "session-bogus": ("turbo", "off"),
}

# ------------------------------------------------------------------ secondary axes


def _entry(key: str, remaining: float, limit: float, window: str = "weekly",
           reset_at: str | None = "2026-11-24T00:00:00Z") -> dict[str, Any]:
    return {"window": window, "key": key, "limit": limit, "used": limit - remaining, "remaining": remaining,
            "share": (limit - remaining) / limit, "reset_at": reset_at, "source": "local"}


# name -> (budget entries, exhausted tiers)
BUDGETS: dict[str, tuple[list[Any], list[Any]]] = {
    "none": ([], []),
    "ample": ([_entry("tokens", 90_000, 100_000)], []),
    "tokens-tight": ([_entry("tokens", 12_000, 100_000)], []),
    "tokens-13000": ([_entry("tokens", 13_000, 100_000, reset_at=None)], []),
    "opus-tokens-tight": ([_entry("opus_tokens", 5_000, 100_000), _entry("tokens", 90_000, 100_000, "daily")], []),
    "spend-tight": ([_entry("total_spend", 0.1, 10.0, "monthly", None)], []),
    "spend-zero": ([_entry("total_spend", 0.0, 10.0, "monthly")], ["haiku"]),
    "tiny": ([_entry("tokens", 1_000, 100_000, "daily", "2026-11-20T00:00:00Z"),
              _entry("opus_tokens", 0, 50_000)], []),
    "reserve-sensitive": ([_entry("tokens", 30_000, 100_000), _entry("total_spend", 0.5, 10.0, "monthly")], []),
    "exhausted-opus": ([_entry("opus_messages", 0, 45), _entry("tokens", 50_000, 100_000)], ["opus"]),
    "exhausted-opus-sonnet": ([_entry("tokens", 0, 100_000, reset_at="2026-11-25T00:00:00Z"),
                               _entry("opus_messages", 0, 45, "daily", "2026-11-21T00:00:00Z")], ["opus", "sonnet"]),
    "exhausted-all": ([_entry("tokens", -5, 100_000)], ["haiku", "sonnet", "opus", "gpt4"]),
    "exhausted-haiku-tight": ([_entry("tokens", 12_000, 100_000)], ["haiku"]),
    "exhausted-opus-opus-tight": ([_entry("opus_tokens", 5_000, 100_000)], ["opus"]),
    "opus-tokens-spend": ([_entry("opus_tokens", 9_000, 20_000), _entry("total_spend", 0.3, 50.0, "monthly", None)], []),
    "spend-mid": ([_entry("total_spend", 0.07, 10.0, "monthly", "2026-12-01T00:00:00Z")], []),
    "garbage-exhausted": (["not a dict", {"key": "tokens", "remaining": 0, "reset_at": 5},
                           {"key": "opus_messages", "remaining": 0, "reset_at": "2026-11-22T00:00:00Z"}], ["opus"]),
    "garbage": (["not a dict", {"key": "tokens", "remaining": True, "limit": 10},
                 {"key": "tokens", "remaining": 20_000, "limit": "many", "window": "weekly"},
                 {"key": "opus_messages", "remaining": 0}], "not a list"),  # type: ignore[dict-item]
}

ESTIMATES: dict[str, Any] = {
    "none": None,
    "range": {"input": [2000, 5000], "output": [500, 1500], "tool_calls": [3, 8], "total_estimate": [8000, 10000]},
    "io-only": {"input": [2000, 5000], "output": [500, 1500]},
    "total-scalar": {"total_estimate": 20_000},
    "big": {"input": 40_000, "output": [1000, 6000.5]},
    "garbage": {"total_estimate": "lots", "input": [True, 3], "output": []},
    "not-a-dict": [1, 2],
}

ROLES = ["specialist", "coordinator", "boss"]

TEXTS = {
    "empty": "",
    "plain": "the dropdown flickers",
    "hydration": "hydration mismatch after a race condition",
    "missing-import": "There is a missing import in Header.tsx",
    "both": "missing import causes a hydration mismatch",
    "typo": "fix a typo",
    "trace": 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nValueError: x',
    "long": "x " * 2600,
    "code": "see src/a.tsx and src/b.tsx\n```\nx\n```",
}

# name -> config changes (applied on top of the base config)
CONFIGS: dict[str, dict[str, Any]] = {
    "base": {},
    "reserve-high": {"priority_reserve": {"share": 0.2, "reasoning_demand": ["high"]}},
    "reserve-medium": {"priority_reserve": {"share": 0.2, "reasoning_demand": ["medium", "low"]}},
    "reserve-bogus": {"priority_reserve": {"share": True, "reasoning_demand": []}},
    "no-prices": {"tiers": _tiers(ALL3, priced=False)},
    "bad-prices": {"tiers": [dict(t, price_per_mtok={"input": "cheap", "output": 5.0}) for t in _tiers(ALL3)]},
    "margin-1": {"hard_caps": {"safety_margin": 1.0}},
    "margin-bogus": {"hard_caps": {"safety_margin": True}},
    "no-hard-caps": {"hard_caps": None, "priority_reserve": None},
    "four-tiers": {"tiers": _tiers(["mini", *ALL3])},
    "two-tiers": {"tiers": _tiers(["haiku", "sonnet"])},
    "one-tier": {"tiers": _tiers(["sonnet"])},
    "project-override": {"overrides": {"s": {"preferred": "opus", "minimum": "sonnet", "reason": "complex codebase"}}},
    "project-override-preferred": {"overrides": {"s": {"preferred": "haiku"}}},
    "project-override-blockless": {"overrides": {"s": {"reasoning_demand": "low", "allow_downgrade": False}}},
    "project-override-other": {"overrides": {"other": {"preferred": "haiku"}, "s": "not a dict"}},
    "defaults-unset": {"defaults": {"coordinator": "sonnet", "specialist": None}},
    "defaults-bogus": {"defaults": {"coordinator": "gpt4", "specialist": "opus"}},
    "defaults-missing": {"defaults": None},
}

PLATFORMS = ["claude_code", "qwen", "codex", "Claude-Code", "vim"]
SKILLS = ["s", "plug:s", "other-skill"]

SECONDARY: dict[str, list[str]] = {
    "budget": list(BUDGETS),
    "estimate": list(ESTIMATES),
    "role": ROLES,
    "text": list(TEXTS),
    "config": list(CONFIGS),
    "platform": PLATFORMS,
    "skill": SKILLS,
}
CORE: dict[str, list[str]] = {
    "block": list(BLOCKS),
    "overrides": list(OVERRIDES),
    "zone": list(ZONES),
    "mode": list(MODES),
}


def _pick(case: int, axis: str, values: list[str]) -> str:
    digest = hashlib.blake2b(f"{case}:{axis}".encode(), digest_size=8).digest()
    return values[int.from_bytes(digest, "big") % len(values)]


@functools.cache
def cases() -> list[dict[str, str]]:
    """Every case as its axis values (names), in a fixed order (shared: do not modify)."""
    out: list[dict[str, str]] = []
    for block in CORE["block"]:
        for ov in CORE["overrides"]:
            for zone in CORE["zone"]:
                for mode in CORE["mode"]:
                    for _ in range(SAMPLES):
                        n = len(out)
                        case = {"block": block, "overrides": ov, "zone": zone, "mode": mode}
                        case.update({axis: _pick(n, axis, values) for axis, values in SECONDARY.items()})
                        out.append(case)
    return out


@functools.cache
def _frozen(axis: str, name: str) -> str:
    table: dict[str, Any] = {"config": CONFIGS, "overrides": OVERRIDES, "block": BLOCKS, "estimate": ESTIMATES,
                             "budget": BUDGETS, "zone": ZONES, "tiers": {"base": _tiers(ALL3)}}[axis]
    return json.dumps(table[name])


def _fresh(axis: str, name: str) -> Any:
    """A new copy of an axis value (the grid's own objects are never handed to decide)."""
    return json.loads(_frozen(axis, name))


def inputs(case: dict[str, str]) -> dict[str, Any]:
    """The decide() arguments of a case (fresh objects every call)."""
    config: dict[str, Any] = {
        "tiers": _fresh("tiers", "base"),
        "zones": {"yellow": 0.70, "red": 0.90},
        "defaults": {"coordinator": "haiku", "specialist": "sonnet", "reference_loading": "haiku"},
        "budgets": {},
        "priority_reserve": {"share": 0.0, "reasoning_demand": ["high"]},
        "hard_caps": {"safety_margin": 1.3},
        "overrides": {},
        "sources": [],
    }
    config.update(_fresh("config", case["config"]))
    session_mode, defaults_mode = MODES[case["mode"]]
    if defaults_mode != "absent" and isinstance(config["defaults"], dict):
        config["defaults"]["conservation_mode"] = defaults_mode
    inline, session_keys = _fresh("overrides", case["overrides"])
    config["session"] = {"force_model": None, "conservation_mode": session_mode, "skill_overrides": {},
                         "ignore_minimum": False, **session_keys}
    block = _fresh("block", case["block"])
    if block is not None and case["estimate"] != "none":
        block["estimated_tokens"] = _fresh("estimate", case["estimate"])
    entries, exhausted = _fresh("budget", case["budget"])
    budget = {**_fresh("zone", case["zone"]), "budgets": entries, "exhausted_tiers": exhausted}
    return {
        "skill_name": case["skill"], "block": block, "role": case["role"], "config": config,
        "overrides": inline, "budget": budget, "request_text": TEXTS[case["text"]], "platform": case["platform"],
    }


def digest(decision: dict[str, Any]) -> str:
    """A digest of the decision as JSON. Key order is kept (it is part of the
    output), and only JSON types pass: a tuple where a list was is a change too."""
    text = json.dumps(decision, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(text) == decision, f"not plain JSON: {decision!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def axes() -> dict[str, list[str]]:
    return {**CORE, **SECONDARY, "samples": [str(SAMPLES)]}


def _write_golden(digests: list[str]) -> None:
    lines = [digests[i:i + 12] for i in range(0, len(digests), 12)]
    body = ",\n".join("  " + ",".join(json.dumps(d) for d in line) for line in lines)
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(
        "{\n" + f'"axes": {json.dumps(axes())},\n"count": {len(digests)},\n"digests": [\n{body}\n]\n' + "}\n",
        encoding="utf-8",
    )


@functools.cache
def decisions() -> list[dict[str, Any]]:
    """decide() over the whole grid (shared: do not modify)."""
    return [decide(**inputs(c)) for c in cases()]


def test_decide_matches_the_golden_grid() -> None:
    grid = cases()
    got = [digest(d) for d in decisions()]
    if os.environ.get("TIERWISE_UPDATE_GOLDEN"):
        _write_golden(got)
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["axes"] == axes(), "the grid changed: regenerate the golden on the commit before the change"
    assert golden["count"] == len(grid) == len(golden["digests"])
    changed = [i for i, (a, b) in enumerate(zip(golden["digests"], got)) if a != b]
    if changed:
        shown = "\n".join(
            f"case {i} {grid[i]}:\n  now {json.dumps(decide(**inputs(grid[i])), ensure_ascii=False)}"
            for i in changed[:5]
        )
        raise AssertionError(f"{len(changed)} of {len(grid)} decisions changed; the first:\n{shown}")


def test_the_grid_is_deterministic_and_the_inputs_are_not_mutated() -> None:
    grid = cases()
    assert grid == cases.__wrapped__()
    for case in grid[::97]:
        args = inputs(case)
        before = copy.deepcopy(args)
        first = decide(**args)
        assert args == before, case
        assert decide(**args) == first


def test_every_secondary_value_meets_every_block() -> None:
    seen = {(c["block"], axis, c[axis]) for c in cases() for axis in SECONDARY}
    missing = [(b, axis, v) for b in BLOCKS for axis, values in SECONDARY.items() for v in values
               if (b, axis, v) not in seen]
    assert not missing


def test_the_digest_sees_a_changed_note_key_order_and_type() -> None:
    d = decisions()[0]
    changed_note = json.loads(json.dumps(d))
    changed_note["steps"][0]["note"] += "."
    reordered = dict(reversed(list(d.items())))
    assert len({digest(d), digest(changed_note), digest(reordered)}) == 3
    with pytest.raises(AssertionError, match="not plain JSON"):
        digest(dict(d, options=tuple(d["options"])))


KINDS = (  # (kind, test on the reason), first match wins
    ("blocked-hard-cap", lambda r: r.startswith("blocked: hard cap")),
    ("blocked-exhausted", lambda r: r.startswith("blocked: ")),
    ("hard-cap-step-down", lambda r: "; hard cap:" in r),
    ("exhausted-step-down", lambda r: " exhausted → " in r),
    ("budget-downgrade", lambda r: "budget downgrade" in r),
    ("platform-default", lambda r: "platform default" in r),
    ("refused-upgrade", lambda r: "allow_upgrade: false" in r),
    ("user-override", lambda r: r.startswith("user override")),
    ("refused-downgrade", lambda r: "allow_downgrade: false" in r),
    ("offer", lambda r: "offer:" in r),
    ("condition", lambda r: r.startswith("condition")),
    ("session-default", lambda r: "session default" in r),
    ("other", lambda r: True),
)


def test_the_grid_reaches_the_paths_that_matter() -> None:
    """The golden is only as good as what it exercises: each kind of outcome occurs often."""
    counts = dict.fromkeys((kind for kind, _ in KINDS), 0)
    for d in decisions():
        counts[next(kind for kind, test in KINDS if test(d["reason"]))] += 1
    assert min(counts.values()) >= 25, counts


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        case = cases()[int(arg)]
        args = inputs(case)
        print(json.dumps({"case": case, "inputs": args, "decision": decide(**args)}, indent=2, ensure_ascii=False))
