"""Tier order helpers over a resolved config (``config.resolve``).

A resolved config lists its tiers cheapest -> most capable (by ``cost_ratio``);
every helper here reads that order, so no module hard-codes haiku < sonnet < opus.

Hot module (imported by hooks): standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PLATFORMS = ("claude_code", "qwen_code", "codex")
PLATFORM_ALIASES = {
    "claude": "claude_code",
    "claude_code": "claude_code",
    "claude-code": "claude_code",
    "qwen": "qwen_code",
    "qwen_code": "qwen_code",
    "qwen-code": "qwen_code",
    "codex": "codex",
}


def canonical_platform(platform: str) -> str | None:
    """``claude``/``qwen`` aliases -> ``claude_code``/``qwen_code``; None when unknown."""
    return PLATFORM_ALIASES.get(str(platform).strip().lower())


def names(config: dict[str, Any]) -> list[str]:
    """Tier names, cheapest first."""
    return [t["name"] for t in config["tiers"]]


def is_tier(config: dict[str, Any], name: object) -> bool:
    return isinstance(name, str) and name in names(config)


def rank(config: dict[str, Any], name: str) -> int:
    """Position of a tier in the order (0 = cheapest). ValueError for an unknown tier."""
    order = names(config)
    if name not in order:
        raise ValueError(f"unknown tier {name!r}; defined tiers: {', '.join(order)}")
    return order.index(name)


def compare(config: dict[str, Any], a: str, b: str) -> int:
    """-1, 0 or 1 as tier ``a`` is cheaper than, equal to or above tier ``b``."""
    ra, rb = rank(config, a), rank(config, b)
    return (ra > rb) - (ra < rb)


def between(config: dict[str, Any], low: str, high: str) -> list[str]:
    """Tiers from ``low`` to ``high`` inclusive, cheapest first (empty when low > high)."""
    order = names(config)
    lo, hi = rank(config, low), rank(config, high)
    return order[lo : hi + 1] if lo <= hi else []


def cheapest(config: dict[str, Any]) -> str:
    return names(config)[0]


def most_capable(config: dict[str, Any]) -> str:
    return names(config)[-1]


def clamp(config: dict[str, Any], tier: str, low: str, high: str) -> str:
    """``tier`` moved into [low, high] in tier order."""
    order = names(config)
    r = min(max(rank(config, tier), rank(config, low)), rank(config, high))
    return order[r]


def tier_entry(config: dict[str, Any], name: str) -> dict[str, Any]:
    for entry in config["tiers"]:
        if entry["name"] == name:
            return entry  # type: ignore[no-any-return]
    raise ValueError(f"unknown tier {name!r}; defined tiers: {', '.join(names(config))}")


def model_for(config: dict[str, Any], name: str, platform: str) -> str | None:
    """The concrete model id of a tier on a platform (None when not configured)."""
    models = tier_entry(config, name).get("models") or {}
    value = models.get(canonical_platform(platform) or platform)
    return value if isinstance(value, str) else None


def tier_for_model(config: dict[str, Any], model: str, platform: str | None = None) -> str | None:
    """The tier whose model id (on ``platform``, or any platform) is ``model``; also
    accepts the tier name itself. Dated ids (``claude-haiku-4-5-20251001``) match
    their undated prefix."""
    if not isinstance(model, str) or not model:
        return None
    if model in names(config):
        return model
    plat = canonical_platform(platform) if platform else None
    best: tuple[int, str] | None = None
    for entry in config["tiers"]:
        for key, mid in (entry.get("models") or {}).items():
            if plat and key != plat:
                continue
            if not isinstance(mid, str) or not mid:
                continue
            if model == mid:
                return entry["name"]  # type: ignore[no-any-return]
            if model.startswith(mid + "-") and (best is None or len(mid) > best[0]):
                best = (len(mid), entry["name"])
    return best[1] if best else None
