"""Team budgets in the hot budget state (no server needed): the pulled team
totals (team/budget.json as `tierwise team sync` writes it) plus this machine's
rows not pushed yet; carried forward by `add_usage` exactly as a fresh
measurement; dropped when the calendar window has reset since the sync."""

from __future__ import annotations

import json
import os
import random
from datetime import datetime, timezone
from typing import Any

import pytest

from ledger_helpers import config
from tierwise.hot.ledger import budget, db, record

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
DAY_START_MS = int(datetime(2026, 11, 22, tzinfo=timezone.utc).timestamp() * 1000)
HOUR = 3_600_000


def _cfg(daily: str = "calendar", **team: Any) -> dict[str, Any]:
    cfg = config(budget_windows={"timezone": "UTC", "week_start": "monday", "daily": daily, "weekly": "rolling",
                                 "monthly": "calendar"})
    cfg["team_budgets"] = {"daily": {"tokens": 1_000_000, "total_spend": 100.0},
                           "weekly": {"opus_messages": 50}, "monthly": {}, **team}
    return cfg


def _insert(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    conn = db.connect()
    try:
        _, inserted = record.write_batch(conn, [("usage", rows)], None)
    finally:
        conn.close()
    return inserted


def _rows(n: int, ts: int, prefix: str, tier: str = "sonnet", tokens: int = 1000) -> list[dict[str, Any]]:
    return [{"model": f"claude-{tier}-4-5", "tier": tier, "input": tokens, "ts": ts - i, "cost_usd": 0.5,
             "price_source": "test", "source_key": f"{prefix}{i}"} for i in range(n)]


def _join(rows_through: int, synced_ms: int, daily: dict[str, Any], weekly: dict[str, Any] | None = None) -> None:
    folder = budget.team_dir()
    os.makedirs(folder, exist_ok=True)
    with open(budget.team_member_path(), "w") as fh:
        json.dump({"url": "postgresql://u@127.0.0.1/x"}, fh)
    zero = {"tokens": 0, "opus_tokens": 0, "opus_messages": 0, "total_spend": 0.0, "requests": 0, "unpriced": 0,
            "oldest_ms": None}
    with open(budget.team_cache_path(), "w") as fh:
        json.dump({"version": 1, "synced_ms": synced_ms, "rows_through": rows_through, "windows": {
            "daily": {**zero, **daily},
            "weekly": {**zero, "kind": "rolling", "start_ms": synced_ms - 7 * 24 * HOUR, "reset_ms": None,
                       **(weekly or {})},
        }}, fh)


def _team(state: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(b["window"], b["key"]): b for b in state["budgets"] if b["source"] == "team"}


def test_not_joined_means_no_team_budgets() -> None:
    _insert(_rows(5, NOW_MS, "a"))
    measured = budget.measure(None, _cfg(), "s", NOW)
    assert "team" not in measured
    assert _team(budget.assemble(_cfg(), measured)) == {}


def test_pulled_totals_plus_rows_recorded_since() -> None:
    _insert(_rows(10, NOW_MS - HOUR, "pushed"))  # ids 1..10: on the server already
    _join(10, NOW_MS - 600_000, {"kind": "calendar", "start_ms": DAY_START_MS, "reset_ms": DAY_START_MS + 24 * HOUR,
                                 "tokens": 700_000, "total_spend": 60.0, "requests": 700},
          {"opus_messages": 45, "tokens": 1})
    _insert(_rows(3, NOW_MS - 60_000, "new"))
    _insert(_rows(2, NOW_MS - 60_000, "opus", tier="opus"))
    state = budget.state(None, _cfg(), "s", NOW)
    team = _team(state)
    tokens = team[("daily", "tokens")]
    assert (tokens["used"], tokens["team_used"], tokens["unsynced_here"]) == (705_000, 700_000, 5_000)
    assert tokens["age_s"] == 600 and tokens["synced_at"] == "2026-11-22T09:20:00Z" and not tokens["stale"]
    assert team[("daily", "total_spend")]["used"] == pytest.approx(62.5)
    assert team[("weekly", "opus_messages")]["used"] == 47  # 45 pulled + 2 here
    assert state["zone"] == "red" and state["binding"]["label"] == "weekly opus at 94% (team)"
    assert state["exhausted_tiers"] == []
    _insert(_rows(3, NOW_MS - 60_000, "more-opus", tier="opus"))
    assert budget.state(None, _cfg(), "s", NOW)["exhausted_tiers"] == ["opus"]  # 50 of 50: the team's opus is gone


def test_a_reset_calendar_window_counts_only_this_machine_until_the_next_sync() -> None:
    yesterday = DAY_START_MS - 24 * HOUR
    _join(0, DAY_START_MS - HOUR, {"kind": "calendar", "start_ms": yesterday, "reset_ms": DAY_START_MS,
                                   "tokens": 900_000})
    _insert(_rows(4, NOW_MS, "today"))
    _insert(_rows(4, DAY_START_MS - 2 * HOUR, "yesterday"))
    tokens = _team(budget.state(None, _cfg(), "s", NOW))[("daily", "tokens")]
    assert tokens["stale"] and tokens["team_used"] == 0 and tokens["used"] == 4_000


def test_a_rolling_pull_older_than_its_window_is_dropped() -> None:
    _join(0, NOW_MS - 25 * HOUR, {"kind": "rolling", "start_ms": NOW_MS - 49 * HOUR, "reset_ms": None,
                                  "tokens": 900_000})
    tokens = _team(budget.state(None, _cfg(daily="rolling"), "s", NOW))[("daily", "tokens")]
    assert tokens["stale"] and tokens["used"] == 0


@pytest.mark.parametrize("seed", range(4))
def test_carried_forward_equals_a_fresh_measurement(seed: int) -> None:
    rng = random.Random(seed)
    _insert(_rows(20, NOW_MS - 2 * HOUR, "pushed"))
    _join(20, NOW_MS - HOUR, {"kind": "calendar", "start_ms": DAY_START_MS, "reset_ms": DAY_START_MS + 24 * HOUR,
                              "tokens": 50_000, "opus_messages": 3, "oldest_ms": DAY_START_MS + 1})
    cfg = _cfg()
    cached = budget.measure(None, cfg, "s", NOW)
    new = [{"model": "claude-opus-4-6" if rng.random() < 0.3 else "claude-haiku-4-5",
            "input": rng.randint(1, 9000), "ts": NOW_MS - rng.randint(-60_000, 3 * 24 * HOUR),
            "cost_usd": rng.choice([None, 0.25]), "price_source": "test", "source_key": f"n{seed}-{i}"}
           for i in range(60)]
    inserted = _insert(new)
    carried = budget.add_usage(cached, inserted, NOW_MS)
    assert carried is not None
    fresh = budget.measure(None, cfg, "s", NOW)
    for name, window in fresh["team"]["windows"].items():
        got = carried["team"]["windows"][name]
        assert got["server"] == window["server"]
        assert got["local"] == {**window["local"], "total_spend": pytest.approx(window["local"]["total_spend"])}
    assert _team(budget.assemble(cfg, carried)).keys() == _team(budget.assemble(cfg, fresh)).keys()
    for key, entry in _team(budget.assemble(cfg, fresh)).items():
        assert _team(budget.assemble(cfg, carried))[key]["used"] == pytest.approx(entry["used"])
