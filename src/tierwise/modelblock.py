"""The model block of a SKILL.md: where it is placed (``routing:``, ``model:`` as
a mapping or a tier string), ranges such as ``2000-5000``, and its normalized
form (docs/ARCHITECTURE.md, "Model block"). Pure: no file or YAML access, so
``config`` and ``skills`` both use it without importing each other.

Cold module (imported by validation, discovery and the cache rebuild).
"""

from __future__ import annotations

import re
from typing import Any

from tierwise.hot.errors import InputError, format_key_path

BLOCK_KEYS = (
    "preferred",
    "acceptable",
    "minimum",
    "allow_upgrade",
    "allow_downgrade",
    "reasoning_demand",
    "estimated_tokens",
    "conditions",
    "enforce",
)
ESTIMATE_KEYS = ("input", "output", "tool_calls", "total_estimate")
CONDITION_KEYS = ("when", "downgrade_to", "hold_at")
REASONING_DEMANDS = ("low", "medium", "high", "variable")
ENFORCE_MODES = ("fork", "advisory")
PIN_MARKER = "tierwise-pinned"  # clients/qwen/pins.MARKER: the `model:` line is tierwise's pin, not a routing block

# One path segment: letters/digits (any script), '_', '.', '-'; no separators, no NUL.

_RANGE = re.compile(r"\s*(\d{1,12})\s*(?:-\s*(\d{1,12})\s*)?")
MAX_ESTIMATE = 10**12 - 1  # token estimates are whole numbers below 10^12 (model-block schema)


# --------------------------------------------------------------------------- blocks


def find_block(frontmatter: dict[str, Any], tier_names: list[str]) -> tuple[Any, str | None]:
    """``(raw_block, placement)``: ``routing:`` first, then ``model:`` as a mapping,
    then ``model:`` as a tier-name string; ``(None, None)`` when there is none."""
    if "routing" in frontmatter and frontmatter["routing"] is not None:
        return frontmatter["routing"], "routing"
    model = frontmatter.get("model")
    if isinstance(model, dict):
        return model, "model-mapping"
    if isinstance(model, str) and model.strip() in tier_names and PIN_MARKER not in frontmatter:
        return model.strip(), "model-string"
    return None, None


def block_prefix(placement: str | None) -> str:
    return "routing" if placement == "routing" else "model"


def parse_range(value: Any) -> list[int] | None:
    """``N`` or ``"N-M"`` -> ``[lo, hi]``; None when malformed or lo > hi."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value <= MAX_ESTIMATE:
        return [value, value]
    if isinstance(value, str):
        m = _RANGE.fullmatch(value)
        if m:
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) is not None else lo
            if lo <= hi:
                return [lo, hi]
    return None


def normalize_block(
    raw: Any,
    tier_names: list[str],
    *,
    default_preferred: str | None = None,
    file: str | None = None,
    prefix: str = "model",
) -> dict[str, Any]:
    """The normalized block (docs/ARCHITECTURE.md) from a raw mapping or tier string.

    Defaults: minimum = preferred; acceptable = tiers from minimum to preferred;
    allow_upgrade/allow_downgrade true; reasoning_demand medium. Unusable values
    raise InputError naming the key (``check_frontmatter`` reports them all as warnings).
    """

    def fail(key: list[str | int], message: str, fix: str) -> InputError:
        return InputError(message, file=file, key=format_key_path([prefix, *key]), fix=fix)

    def tier(key: list[str | int], value: Any) -> str:
        if not isinstance(value, str) or value not in tier_names:
            raise fail(key, f"expected one of the defined tiers ({', '.join(tier_names)}), got {value!r}",
                       f"use one of {', '.join(tier_names)}")
        return value

    if isinstance(raw, str):
        raw = {"preferred": raw}
    if not isinstance(raw, dict):
        raise fail([], f"expected a mapping or a tier name, got {type(raw).__name__}",
                    "write the block as a mapping (see docs/skill-frontmatter.md)")
    for key in raw:
        if key not in BLOCK_KEYS:
            raise fail([str(key)], f"unknown key {key!r}", f"known keys: {', '.join(BLOCK_KEYS)}")
    if "preferred" in raw:
        preferred = tier(["preferred"], raw["preferred"])
    elif default_preferred is not None:
        preferred = tier(["preferred"], default_preferred)
    else:
        raise fail(["preferred"], "missing preferred", "add `preferred: <tier>`")
    minimum = tier(["minimum"], raw["minimum"]) if "minimum" in raw else preferred
    if "acceptable" in raw:
        acc = raw["acceptable"]
        if not isinstance(acc, list):
            raise fail(["acceptable"], f"expected a list of tiers, got {acc!r}", "write `acceptable: [haiku, sonnet]`")
        acceptable = [tier(["acceptable", i], t) for i, t in enumerate(acc)]
    else:
        lo, hi = sorted((tier_names.index(minimum), tier_names.index(preferred)))
        acceptable = tier_names[lo : hi + 1]
    flags = {}
    for key in ("allow_upgrade", "allow_downgrade"):
        value = raw.get(key, True)
        if not isinstance(value, bool):
            raise fail([key], f"expected true or false, got {value!r}", f"write `{key}: true` or `{key}: false`")
        flags[key] = value
    demand = raw.get("reasoning_demand", "medium")
    if demand not in REASONING_DEMANDS:
        raise fail(["reasoning_demand"], f"expected one of {', '.join(REASONING_DEMANDS)}, got {demand!r}",
                   f"use one of {', '.join(REASONING_DEMANDS)}")
    estimated = None
    if raw.get("estimated_tokens") is not None:
        est = raw["estimated_tokens"]
        if not isinstance(est, dict):
            raise fail(["estimated_tokens"], "expected a mapping", "see docs/skill-frontmatter.md")
        estimated = {}
        for key, value in est.items():
            if key not in ESTIMATE_KEYS:
                raise fail(["estimated_tokens", str(key)], f"unknown key {key!r}", f"known keys: {', '.join(ESTIMATE_KEYS)}")
            rng = parse_range(value)
            if rng is None:
                shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
                raise fail(["estimated_tokens", key],
                           f"expected N or N-M with N <= M, whole numbers below 10^12, got {shown}",
                           "write e.g. `2000-5000` or `3`")
            estimated[key] = rng
    conditions = []
    conds = raw.get("conditions") or []
    if not isinstance(conds, list):
        raise fail(["conditions"], "expected a list of conditions", "write `- when: ...` items")
    for i, cond in enumerate(conds):
        if not isinstance(cond, dict):
            raise fail(["conditions", i], "expected a mapping with `when`", "write `when:` and `downgrade_to:` or `hold_at:`")
        for key in cond:
            if key not in CONDITION_KEYS:
                raise fail(["conditions", i, str(key)], f"unknown key {key!r}", f"known keys: {', '.join(CONDITION_KEYS)}")
        when = cond.get("when")
        if not isinstance(when, (str, dict)) or not when:
            raise fail(["conditions", i, "when"], "missing `when` (a description or a mapping of signals)",
                       "add `when: \"...\"`")
        actions = [k for k in ("downgrade_to", "hold_at") if k in cond]
        if len(actions) != 1:
            raise fail(["conditions", i], "expected exactly one of downgrade_to / hold_at",
                       "keep one of downgrade_to / hold_at")
        conditions.append({"when": when, actions[0]: tier(["conditions", i, actions[0]], cond[actions[0]])})
    enforce = raw.get("enforce")
    if enforce is not None and enforce not in ENFORCE_MODES:
        raise fail(["enforce"], f"expected fork or advisory, got {enforce!r}",
                   "write `enforce: fork` (run it on its tier) or `enforce: advisory` (the session's model)")
    return {
        "preferred": preferred,
        "acceptable": acceptable,
        "minimum": minimum,
        "allow_upgrade": flags["allow_upgrade"],
        "allow_downgrade": flags["allow_downgrade"],
        "reasoning_demand": demand,
        "estimated_tokens": estimated,
        "conditions": conditions,
        "enforce": enforce,
    }
