"""Cost arithmetic over a cached price table, and tier lookup for a model id.

Hot module: standard library only. The price table is built by the cold
``tierwise.prices`` module from genai-prices and cached as JSON in the cache
dir (``prices.json``); hooks read that file (or nothing) and never import
genai-prices.

Price entry (USD per million tokens)::

    {"id": matched genai-prices id, "source": "genai-prices 0.2.3",
     "periods": [{"from": "YYYY-MM-DD" | null,
                  "prices": {"input", "output", "cache_write_5m", "cache_write_1h", "cache_read"},
                  "tiers": [{"above": 200000, "prices": {...}}]}]}

``tiers`` is long-context pricing: when a request's whole input
(input + cache writes + cache reads) is above ``above`` tokens, every token of
that request is priced at the tier's rates (as genai-prices computes it).

Resolution order for one usage row (:func:`resolve`):

1. the row's tier has ``price_per_mtok`` in the config -> ``config:tier <name>``
2. the concrete model id is in the price table -> ``genai-prices <ver>: <id>``
3. ``cost_ratio``: a tier whose price is known, scaled by the ratio of the
   two tiers' ``cost_ratio`` -> ``cost_ratio: <tier> = <known> x r/r0``
4. otherwise unknown: cost is NULL (never $0), price source ``unknown``.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os

from tierwise.hot import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PRICE_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
FAMILIES = ("haiku", "sonnet", "opus")
PLATFORM_KEYS = {"claude_code": "claude_code", "claude": "claude_code", "qwen_code": "qwen_code", "qwen": "qwen_code"}

_table_cache: dict[str, Any] | None = None
_table_cache_path: str | None = None


def table_path() -> str:
    return os.path.join(paths.cache_dir(), "prices.json")


def load_table(refresh: bool = False) -> dict[str, Any]:
    """The cached price table ``{"generated_by": str, "models": {id: entry | None}}``.

    ``None`` for a model means "looked up, not known". A missing or unreadable
    cache is an empty table (costs are then filled in by the next cold command).
    """
    global _table_cache, _table_cache_path
    path = table_path()
    if _table_cache is not None and not refresh and _table_cache_path == path:
        return _table_cache
    try:
        data = json.loads(paths.read_regular(path, 256 << 20))  # never a FIFO or a device
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            data = {"generated_by": None, "models": {}}
    except (OSError, ValueError, RecursionError):
        data = {"generated_by": None, "models": {}}
    _table_cache, _table_cache_path = data, path
    return data


def remember_table(table: dict[str, Any]) -> None:
    global _table_cache, _table_cache_path
    _table_cache, _table_cache_path = table, table_path()


def reset_cache() -> None:
    global _table_cache, _table_cache_path
    _table_cache = _table_cache_path = None


def strip_date(model: str) -> str:
    """``claude-haiku-4-5-20251001`` -> ``claude-haiku-4-5``."""
    head, _, tail = model.rpartition("-")
    if head and len(tail) == 8 and tail.isdigit():
        return head
    return model


def lookup(table: dict[str, Any], model: str | None) -> tuple[bool, dict[str, Any] | None]:
    """(known_to_table, entry). ``known_to_table`` False means never looked up."""
    if not model:
        return True, None
    models = table.get("models") or {}
    for key in (model, model.lower(), strip_date(model.lower())):
        if key in models:
            return True, models[key]
    return False, None


def tier_for_model(model: str | None, config: dict[str, Any] | None, platform: str = "claude_code") -> str | None:
    """The tier a concrete model id belongs to: the config's tier mapping
    (exact id, or the id plus a date suffix), else the model family name when a
    tier has that name (``claude-opus-4-8`` -> ``opus``)."""
    if not model:
        return None
    low = model.lower()
    tiers = (config or {}).get("tiers") or []
    names = [t.get("name") for t in tiers if isinstance(t, dict)]
    for tier in tiers:
        models = tier.get("models") or {}
        values = models.values() if isinstance(models, dict) else []
        for mid in values:
            if isinstance(mid, str) and mid and (low == mid.lower() or strip_date(low) == mid.lower()):
                return str(tier.get("name"))
    for fam in FAMILIES:
        if fam in low and (not names or fam in names):
            return fam
    return None


def _period_for(entry: dict[str, Any], day: str | None) -> dict[str, Any] | None:
    periods = entry.get("periods") or []
    chosen = None
    for period in periods:
        start = period.get("from")
        if start is None or day is None or start <= day:
            if chosen is None or (start or "") >= (chosen.get("from") or ""):
                chosen = period
    return chosen


def rates_for(entry: dict[str, Any], tokens: dict[str, int], day: str | None = None) -> dict[str, float] | None:
    period = _period_for(entry, day)
    if period is None:
        return None
    rates = dict(period.get("prices") or {})
    whole_input = tokens.get("input", 0) + tokens.get("cache_write_5m", 0) + tokens.get("cache_write_1h", 0) + tokens.get("cache_read", 0)
    for tier in sorted(period.get("tiers") or [], key=lambda t: -int(t.get("above", 0))):
        if whole_input > int(tier.get("above", 0)):
            rates.update(tier.get("prices") or {})
            break
    return rates


def cost_from_rates(rates: dict[str, Any], tokens: dict[str, int]) -> float | None:
    total = 0.0
    for key in PRICE_KEYS:
        count = int(tokens.get(key, 0) or 0)
        if not count:
            continue
        rate = rates.get(key)
        if rate is None:
            if key == "cache_write_5m" and rates.get("input") is not None:
                rate = float(rates["input"]) * 1.25
            elif key == "cache_write_1h" and rates.get("input") is not None:
                rate = float(rates["input"]) * 2.0
            elif key == "cache_read" and rates.get("input") is not None:
                rate = float(rates["input"]) * 0.1
            else:
                return None
        total += count * float(rate)
    return total / 1_000_000


def _config_tier(config: dict[str, Any] | None, name: str | None) -> dict[str, Any] | None:
    for tier in (config or {}).get("tiers") or []:
        if isinstance(tier, dict) and tier.get("name") == name:
            return tier
    return None


def _override_rates(tier: dict[str, Any] | None) -> dict[str, Any] | None:
    if not tier:
        return None
    ppm = tier.get("price_per_mtok")
    if isinstance(ppm, dict) and ppm.get("input") is not None and ppm.get("output") is not None:
        return ppm
    return None


def _tier_rates(
    config: dict[str, Any] | None, tier: dict[str, Any], table: dict[str, Any], platform: str, tokens: dict[str, int], day: str | None
) -> tuple[dict[str, Any] | None, str]:
    over = _override_rates(tier)
    if over is not None:
        return over, f"config:tier {tier.get('name')}"
    models = tier.get("models") or {}
    mid = models.get(PLATFORM_KEYS.get(platform, platform)) if isinstance(models, dict) else None
    if isinstance(mid, str):
        _, entry = lookup(table, mid)
        if entry:
            return rates_for(entry, tokens, day), f"{entry.get('source', 'genai-prices')}: {entry.get('id', mid)}"
    return None, "unknown"


def resolve_rates(
    model: str | None,
    tier: str | None,
    tokens: dict[str, int],
    *,
    config: dict[str, Any] | None = None,
    table: dict[str, Any] | None = None,
    platform: str = "claude_code",
    day: str | None = None,
) -> tuple[dict[str, Any] | None, float, str]:
    """(rates per MTok or None, factor, price source): cost = cost_from_rates(rates) x factor.

    The rates depend on ``tokens`` only through long-context tiers (the whole
    input above a tier's ``above``), so callers may reuse them for requests on
    the same side of those thresholds."""
    table = table if table is not None else load_table()
    tier_cfg = _config_tier(config, tier)
    over = _override_rates(tier_cfg)
    if over is not None:
        return over, 1.0, f"config:tier {tier}"
    known, entry = lookup(table, model)
    if entry:
        rates = rates_for(entry, tokens, day)
        if rates is not None:
            return rates, 1.0, f"{entry.get('source', 'genai-prices')}: {entry.get('id', model)}"
    if tier_cfg is not None and tier_cfg.get("cost_ratio"):
        ratio = float(tier_cfg["cost_ratio"])
        for other in (config or {}).get("tiers") or []:
            if other is tier_cfg or not other.get("cost_ratio"):
                continue
            rates, src = _tier_rates(config, other, table, platform, tokens, day)
            if rates is None or cost_from_rates(rates, tokens) is None:
                continue
            factor = ratio / float(other["cost_ratio"])
            return rates, factor, f"cost_ratio: {tier} = {other.get('name')} x {factor:g} ({src})"
    return None, 1.0, ("unknown" if known else "pending")


def resolve(
    model: str | None,
    tier: str | None,
    tokens: dict[str, int],
    *,
    config: dict[str, Any] | None = None,
    table: dict[str, Any] | None = None,
    platform: str = "claude_code",
    day: str | None = None,
) -> tuple[float | None, str]:
    """(cost_usd or None, price source) for one request. ``price source`` is
    ``pending`` when the model was never looked up in the price table (the next
    cold command prices it), ``unknown`` when nothing prices it."""
    rates, factor, src = resolve_rates(model, tier, tokens, config=config, table=table, platform=platform, day=day)
    if rates is None:
        return None, src
    cost = cost_from_rates(rates, tokens)
    if cost is None:
        return None, "unknown"
    return cost * factor, src


def thresholds(table: dict[str, Any], model: str | None) -> set[int]:
    """Long-context thresholds of a model's price entry (empty when none)."""
    _, entry = lookup(table, model)
    out: set[int] = set()
    for period in (entry or {}).get("periods") or []:
        for t in period.get("tiers") or []:
            out.add(int(t.get("above", 0)))
    return out


def cost_as_tier(
    tier_name: str, tokens: dict[str, int], *, config: dict[str, Any] | None, table: dict[str, Any] | None = None,
    platform: str = "claude_code", day: str | None = None,
) -> tuple[float | None, str]:
    """What these tokens would have cost on ``tier_name`` (for savings)."""
    table = table if table is not None else load_table()
    tier = _config_tier(config, tier_name)
    if tier is not None:
        rates, src = _tier_rates(config, tier, table, platform, tokens, day)
        if rates is not None:
            return cost_from_rates(rates, tokens), src
        model = None
        models = tier.get("models") or {}
        if isinstance(models, dict):
            model = models.get(PLATFORM_KEYS.get(platform, platform))
        return resolve(model if isinstance(model, str) else None, tier_name, tokens, config=config, table=table,
                       platform=platform, day=day)
    return None, "unknown"
