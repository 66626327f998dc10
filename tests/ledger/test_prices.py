"""Prices: genai-prices for concrete ids (date suffixes, future aliases),
per-tier overrides, cost_ratio fallback, unknown never $0, verify."""

from __future__ import annotations

import json
import os
from pathlib import Path
import sqlite3

import pytest

from ledger_helpers import config, tierwise
from tierwise import prices
from tierwise.hot.ledger import pricing, record

M = 1_000_000


def test_date_suffixed_and_aliased_ids_resolve() -> None:
    table = prices.ensure_table(["claude-haiku-4-5-20251001", "claude-opus-4-8", "claude-sonnet-5", "claude-opus-9-9"])
    haiku = table["models"]["claude-haiku-4-5-20251001"]
    assert haiku["id"] == "claude-haiku-4-5"
    assert haiku["periods"][-1]["prices"] == {"input": 1.0, "output": 5.0, "cache_write_5m": 1.25,
                                             "cache_write_1h": 2.0, "cache_read": 0.1}
    assert table["models"]["claude-opus-9-9"] is None  # not known: recorded as unknown, not guessed
    cost, src = pricing.resolve("claude-haiku-4-5-20251001", "haiku", {"input": M, "output": M}, table=table)
    assert cost == pytest.approx(6.0) and src.endswith(": claude-haiku-4-5") and src.startswith("genai-prices")


def test_cache_writes_5m_and_1h_are_priced_apart() -> None:
    table = prices.ensure_table()
    tokens = {"cache_write_5m": M, "cache_write_1h": M, "cache_read": M}
    cost, _ = pricing.resolve("claude-haiku-4-5", None, tokens, table=table)
    assert cost == pytest.approx(1.25 + 2.0 + 0.1)


def test_long_context_rate_matches_genai_prices() -> None:
    from datetime import datetime, timezone

    from genai_prices import Usage, calc_price

    table = prices.ensure_table(["claude-sonnet-4-5"])
    for inp in (150_000, 250_000):
        ours, _ = pricing.resolve("claude-sonnet-4-5", None, {"input": inp, "output": 1000}, table=table,
                                  day="2026-01-10")
        theirs = calc_price(Usage(input_tokens=inp, output_tokens=1000), "claude-sonnet-4-5", provider_id="anthropic",
                            genai_request_timestamp=datetime(2026, 1, 10, tzinfo=timezone.utc)).total_price
        assert ours == pytest.approx(float(theirs))


def test_tier_override_beats_genai_prices() -> None:
    cfg = config()
    cfg["tiers"][0]["price_per_mtok"] = {"input": 2.0, "output": 8.0}
    cost, src = pricing.resolve("claude-haiku-4-5", "haiku", {"input": M, "output": M, "cache_write_1h": M},
                                config=cfg, table=prices.ensure_table())
    assert cost == pytest.approx(2 + 8 + 4.0) and src == "config:tier haiku"


def test_cost_ratio_is_the_labelled_last_fallback() -> None:
    cfg = config()
    cfg["tiers"][2]["models"]["claude_code"] = "claude-opus-99"  # a future id nobody prices yet
    table = prices.ensure_table(["claude-opus-99"])
    cost, src = pricing.resolve("claude-opus-99", "opus", {"input": M}, config=cfg, table=table)
    # haiku ($1/MTok input) x 25/1
    assert cost == pytest.approx(25.0)
    assert src.startswith("cost_ratio: opus = haiku x 25")


def test_unknown_model_is_unknown_never_zero() -> None:
    table = prices.ensure_table(["qwen3-coder-plus"])
    cost, src = pricing.resolve("qwen3-coder-plus", None, {"input": 5, "output": 5}, table=table)
    assert cost is None and src == "unknown"
    cost, src = pricing.resolve("never-seen", None, {"input": 5}, table={"models": {}})
    assert cost is None and src == "pending"


def test_hot_record_prices_later_when_the_cache_lacks_the_model() -> None:
    record.record_usage([{"model": "claude-sonnet-5", "input": M, "output": 0, "message_id": "a", "request_id": "b"}])
    path = os.path.join(os.environ["TIERWISE_HOME"], "ledger.db")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT cost_usd, price_source FROM usage").fetchone() == (None, "pending")
    conn.close()
    rep = json.loads(tierwise("report", "model", "--json").stdout)  # a cold command prices pending rows
    assert rep["rows"][0]["cost_usd"] == pytest.approx(2.0)
    assert rep["pricing_sources"] == ["genai-prices " + prices.source_label().split(" ")[-1] + ": claude-sonnet-5"]


def test_verify_recomputes_and_flags_a_tampered_cost() -> None:
    prices.ensure_table()
    record.record_usage([{"model": "claude-haiku-4-5-20251001", "input": 1000, "output": 100, "message_id": "a",
                          "request_id": "b"},
                         {"model": "claude-opus-4-8", "input": 10, "output": 100, "cache_read": 5000,
                          "message_id": "c", "request_id": "d"}])
    ok = tierwise("verify", "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["checked"] == 2
    conn = sqlite3.connect(os.path.join(os.environ["TIERWISE_HOME"], "ledger.db"))
    conn.execute("UPDATE usage SET cost_usd = cost_usd * 2 WHERE message_id = 'c'")
    conn.commit()
    conn.close()
    bad = tierwise("verify", "--json")
    assert bad.returncode == 1
    mismatches = json.loads(bad.stdout)["mismatches"]
    assert [m["model"] for m in mismatches] == ["claude-opus-4-8"]
    assert mismatches[0]["stored"] == pytest.approx(2 * mismatches[0]["recomputed"])


def test_savings_are_net_and_name_their_source(tmp_path: object) -> None:
    prices.ensure_table()
    record.record_usage([{"model": "claude-opus-4-6", "input": M, "output": 0, "message_id": "o", "request_id": "1"},
                         {"model": "claude-haiku-4-5", "input": M, "output": 0, "message_id": "h", "request_id": "1"}])
    rep = json.loads(tierwise("report", "daily", "--json").stdout)
    sv = rep["savings"]
    assert sv["actual_usd"] == pytest.approx(6.0)  # $5 opus + $1 haiku
    assert sv["all_opus"]["cost_usd"] == pytest.approx(10.0)
    assert sv["saved_vs_opus_usd"] == pytest.approx(4.0) and sv["saved_vs_opus_pct"] == 40.0
    assert sv["all_sonnet"]["cost_usd"] == pytest.approx(6.0)
    assert sv["premium_vs_sonnet_usd"] == pytest.approx(0.0)
    assert "claude-opus-4-6" in sv["all_opus"]["price_source"]
    # all haiku: routing to opus would have cost more, sonnet too -> negative premium allowed
    record.record_usage([{"model": "claude-haiku-4-5", "input": 4 * M, "output": 0, "message_id": "h2",
                          "request_id": "1"}])
    sv = json.loads(tierwise("report", "daily", "--json").stdout)["savings"]
    assert sv["premium_vs_sonnet_usd"] < 0


def test_source_label_names_the_installed_genai_prices() -> None:
    from importlib.metadata import version

    assert prices.source_label() == f"genai-prices {version('genai-prices')}"


def test_the_shipped_seed_is_what_the_installed_genai_prices_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new state dir's price cache starts from data/prices-seed.json, without genai-prices,
    only while the installed genai-prices made it; else every id is looked up."""
    with open(prices.SEED_PATH, encoding="utf-8") as fh:
        seed = json.load(fh)
    assert set(seed["models"]) == set(prices.KNOWN_IDS)
    looked_up: list[str] = []
    real_lookup = prices.lookup_model

    def lookup(model: str) -> dict[str, object] | None:
        looked_up.append(model)
        return real_lookup(model)

    monkeypatch.setattr(prices, "lookup_model", lookup)
    table = prices.ensure_table()
    if seed["generated_by"] == prices.source_label():
        # the seed is current: its entries are exactly what genai-prices says (scripts/gen-seeds rewrites it)
        assert looked_up == []
        assert {m: real_lookup(m) for m in prices.KNOWN_IDS} == seed["models"]
    else:
        # another genai-prices: the seed is ignored, every id is looked up again
        assert sorted(looked_up) == sorted(prices.KNOWN_IDS)
    assert table["generated_by"] == prices.source_label()
    with open(pricing.table_path(), encoding="utf-8") as fh:
        assert json.load(fh)["models"] == table["models"]  # the cache the hooks read is written either way
    # a stale seed (another version) is never used
    monkeypatch.setattr(prices, "source_label", lambda: "genai-prices 0.0.0-other")
    looked_up.clear()
    prices.ensure_table()
    assert sorted(looked_up) == sorted(prices.KNOWN_IDS)


def test_the_seed_is_made_by_the_genai_prices_that_development_and_ci_install() -> None:
    """scripts/bootstrap installs constraints.txt's pins; the shipped seed must come from the pinned
    genai-prices, or a new state dir imports genai-prices on its first run (slow path)."""
    root = Path(prices.__file__).resolve().parents[2]
    pins = dict(
        line.split("==", 1) for line in (root / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    with open(prices.SEED_PATH, encoding="utf-8") as fh:
        made_by = json.load(fh)["generated_by"]
    assert made_by == f"genai-prices {pins['genai-prices']}", (
        f"{prices.SEED_PATH} was made by {made_by} but constraints.txt pins genai-prices=={pins['genai-prices']}:"
        " run scripts/bootstrap, then scripts/gen-seeds"
    )
