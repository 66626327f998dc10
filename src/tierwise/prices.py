"""Per-model prices from genai-prices, cached for the hot path.

Cold module: imports genai-prices (~0.25 s). It looks up concrete model ids
(date-suffixed ids resolve to their base id; ids genai-prices does not know are
recorded as unknown), writes the table the hot ``ledger.pricing`` reads
(``<cache>/prices.json``), and fills in costs of ledger rows recorded before
their model was in the table (``price_source = 'pending'``).

Cache-write prices: genai-prices gives the 5-minute write price; the 1-hour
price comes from genai-prices when it has one, else 2x input; 5m falls back to
1.25x input (Anthropic's published multipliers).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from tierwise.hot import paths
from tierwise.hot.fileio import atomic_write
from tierwise.hot.ledger import pricing

# Claude ids priced up front so hooks find them in the cache on day one. ``<synthetic>`` is the
# model Claude Code writes on messages it made itself (no request): looked up once, unknown.
KNOWN_IDS = (
    "claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-3-5-haiku-20241022",
    "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-6", "claude-sonnet-4-20250514",
    "claude-sonnet-5", "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4-20250514",
    "claude-opus-4-5", "claude-opus-4-5-20251101", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8",
    "<synthetic>",
)

# KNOWN_IDS as genai-prices prices them, shipped with tierwise (scripts/gen-seeds): a new
# state dir starts its price cache from it without importing genai-prices (~0.25 s), when the
# installed genai-prices is the version that made it (else the ids are looked up as before).
SEED_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "prices-seed.json")

_FIELD_MAP = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_write_mtok": "cache_write_5m",
    "cache_write_1h_mtok": "cache_write_1h",
    "cache_read_mtok": "cache_read",
}


def source_label() -> str:
    version = _dist_info_version("genai_prices")
    if version is not None:
        return f"genai-prices {version}"
    try:
        from importlib.metadata import version as metadata_version

        return f"genai-prices {metadata_version('genai-prices')}"
    except Exception:  # pragma: no cover - metadata missing in odd installs
        return "genai-prices"


def _dist_info_version(project: str) -> str | None:
    """The version in the name of the first ``<project>-<version>.dist-info`` on sys.path,
    as importlib.metadata finds it, without its import (~25 ms: email, zipfile, csv)."""
    prefix = project + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith(prefix) and name.endswith(".dist-info"):
                return name[len(prefix):-len(".dist-info")]
    return None


def _num(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (Decimal, int, float)):
        return float(value)
    return None


def _convert_prices(model_price: Any) -> tuple[dict[str, float], list[dict[str, Any]]]:
    flat: dict[str, float] = {}
    tiers: dict[int, dict[str, float]] = {}
    for attr, key in _FIELD_MAP.items():
        value = getattr(model_price, attr, None)
        if value is None:
            continue
        base = getattr(value, "base", None)
        if base is not None:  # TieredPrices
            flat[key] = float(base)
            for tier in getattr(value, "tiers", []) or []:
                tiers.setdefault(int(tier.start), {})[key] = float(tier.price)
        else:
            num = _num(value)
            if num is not None:
                flat[key] = num
    if "input" in flat:
        flat.setdefault("cache_write_5m", flat["input"] * 1.25)
        flat.setdefault("cache_write_1h", flat["input"] * 2.0)
    return flat, [{"above": above, "prices": p} for above, p in sorted(tiers.items())]


def lookup_model(model: str) -> dict[str, Any] | None:
    """The price entry for a concrete id, or None when genai-prices does not know it."""
    from genai_prices.data_snapshot import get_snapshot

    snapshot = get_snapshot()
    try:
        _, info = snapshot.find_provider_model(model, None, "anthropic" if "claude" in model.lower() else None, None)
    except (LookupError, ValueError):
        try:
            _, info = snapshot.find_provider_model(model, None, None, None)
        except (LookupError, ValueError):
            return None
    prices = info.prices
    periods: list[dict[str, Any]] = []
    if isinstance(prices, list):
        for cond in prices:
            constraint = getattr(cond, "constraint", None)
            start = getattr(constraint, "start_date", None) if constraint is not None else None
            if constraint is not None and start is None:
                continue  # a constraint we cannot evaluate offline (time of day, ...)
            flat, tiers = _convert_prices(cond.prices)
            periods.append({"from": start.isoformat() if start else None, "prices": flat, "tiers": tiers})
    else:
        flat, tiers = _convert_prices(prices)
        periods.append({"from": None, "prices": flat, "tiers": tiers})
    if not periods or not any("input" in p["prices"] and "output" in p["prices"] for p in periods):
        return None
    return {"id": info.id, "source": source_label(), "periods": periods}


def ensure_table(models: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Make sure the cached table covers ``models`` (plus KNOWN_IDS); rebuild
    when the genai-prices version changed. Returns the table."""
    label = source_label()
    table = pricing.load_table(refresh=True)
    changed = False
    if table.get("generated_by") != label:
        table = {"generated_by": label, "models": dict(_seed(label))}
        changed = True
    wanted = [m for m in (*KNOWN_IDS, *models) if m]
    missing = [m for m in dict.fromkeys(wanted) if m not in table["models"]]
    for model in missing:
        table["models"][model] = lookup_model(model)
    if missing or changed:
        table["updated_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        _write_table(table)
    return table


def _seed(label: str) -> dict[str, Any]:
    """The shipped entries when ``label`` (the installed genai-prices) made them, else none."""
    try:
        with open(SEED_PATH, encoding="utf-8") as fh:
            seed = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not isinstance(seed, dict) or seed.get("generated_by") != label or not isinstance(seed.get("models"), dict):
        return {}
    return dict(seed["models"])


def build_seed() -> dict[str, Any]:
    """The seed file's content: KNOWN_IDS looked up in the installed genai-prices."""
    return {"generated_by": source_label(), "models": {m: lookup_model(m) for m in KNOWN_IDS}}


def _write_table(table: dict[str, Any]) -> None:
    path = pricing.table_path()
    try:
        atomic_write(path, json.dumps(table, sort_keys=True), fsync=False)  # a cache: looked up again when lost
    except OSError as exc:
        paths.log_error(f"cannot write the price cache {path}: {exc}")
    pricing.remember_table(table)


def reprice_pending(conn: sqlite3.Connection, config: dict[str, Any] | None = None) -> int:
    """Price rows recorded before their model was in the cached table."""
    from tierwise.hot.ledger import db

    models = [r[0] for r in conn.execute("SELECT DISTINCT model FROM usage WHERE price_source = 'pending'")]
    if not models:
        return 0
    table = ensure_table([m for m in models if m])
    rows = conn.execute(
        "SELECT id, client, model, tier, input, output, cache_write_5m, cache_write_1h, cache_read, timestamp "
        "FROM usage WHERE price_source = 'pending'"
    ).fetchall()
    updates = []
    for rid, client, model, tier, i, o, w5, w1, r, stamp in rows:
        tokens = {"input": i, "output": o, "cache_write_5m": w5, "cache_write_1h": w1, "cache_read": r}
        cost, src = pricing.resolve(model, tier, tokens, config=config, table=table, platform=client, day=stamp[:10])
        if src == "pending":
            src = "unknown"
        updates.append((cost, src, rid))
    db.write(conn, lambda c: c.executemany("UPDATE usage SET cost_usd = ?, price_source = ? WHERE id = ?", updates))
    return len(updates)


def live_cost(model: str, tokens: dict[str, int], day: str | None) -> float | None:
    """Recompute a cost straight from genai-prices (no cache), for ``verify``."""
    entry = lookup_model(model)
    if entry is None:
        return None
    rates = pricing.rates_for(entry, tokens, day)
    return None if rates is None else pricing.cost_from_rates(rates, tokens)
