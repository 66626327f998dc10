from __future__ import annotations

import pytest

from tierwise.evidence import costs
from tierwise.evidence.recommend import recommend, recommend_skill

from .helpers import TIERS, result


def _tiers(small: tuple[float, float], mid: tuple[float, float], strong: tuple[float, float]) -> list[dict[str, object]]:
    return [
        {"name": n, "cost_ratio": r, "price_per_mtok": {"input": p[0], "output": p[1]}}
        for n, r, p in (("haiku", 1, small), ("sonnet", 5, mid), ("opus", 25, strong))
    ]


def test_haiku_passing_60_percent_of_must_pass_cases_gets_minimum_sonnet() -> None:
    results = []
    for i in range(5):
        results.append(result("mapper", f"c{i}", "haiku", passed=i < 3))  # 3/5 = 60%
        results.append(result("mapper", f"c{i}", "sonnet", passed=True))
        results.append(result("mapper", f"c{i}", "opus", passed=True))
    rec = recommend_skill("mapper", results, TIERS)
    haiku = rec["tiers"][0]
    assert haiku["tier"] == "haiku" and haiku["pass_rate"] == pytest.approx(0.6)
    assert haiku["must_pass_passed"] == 3 and haiku["must_pass_failed"] == ["c3", "c4"]
    assert rec["minimum"] == "sonnet"
    assert "haiku passes 3/5" in rec["minimum_reason"]
    # haiku is below the minimum, so it is never the preferred tier however cheap it is
    assert rec["tiers"][0]["candidate"] is False
    assert rec["preferred"] == "sonnet"


def test_all_must_pass_on_haiku_gives_minimum_haiku() -> None:
    results = [result("m", f"c{i}", t, True) for i in range(3) for t in ("haiku", "opus")]
    assert recommend_skill("m", results, TIERS)["minimum"] == "haiku"


def test_failed_optional_cases_do_not_raise_the_minimum() -> None:
    results = [result("m", "must", "haiku", True), result("m", "nice", "haiku", False, must_pass=False),
               result("m", "must", "opus", True), result("m", "nice", "opus", True, must_pass=False)]
    assert recommend_skill("m", results, TIERS)["minimum"] == "haiku"


def test_a_must_pass_case_not_run_on_a_tier_does_not_count_as_passed() -> None:
    results = [result("m", "a", "haiku", True), result("m", "a", "sonnet", True), result("m", "b", "sonnet", True)]
    rec = recommend_skill("m", results, TIERS)
    assert rec["tiers"][0]["must_pass_missing"] == ["b"]
    assert rec["minimum"] == "sonnet"


def test_a_flaky_must_pass_case_fails_the_tier() -> None:
    results = [result("m", "a", "haiku", True, run_at="2026-05-01T00:00:00Z"),
               result("m", "a", "haiku", False, run_at="2026-05-02T00:00:00Z"),
               result("m", "a", "sonnet", True)]
    assert recommend_skill("m", results, TIERS)["minimum"] == "sonnet"


def test_no_must_pass_cases_sets_nothing() -> None:
    rec = recommend_skill("m", [result("m", "a", "haiku", True, must_pass=False)], TIERS)
    assert rec["minimum"] is None and rec["preferred"] is None
    assert "no must-pass cases" in rec["minimum_reason"]


def test_no_tier_passing_every_must_pass_case_sets_nothing() -> None:
    rec = recommend_skill("m", [result("m", "a", t, False) for t in ("haiku", "opus")], TIERS)
    assert rec["minimum"] is None and "no evaluated tier passes" in rec["minimum_reason"]


def _repair_scenario(repair_rate_tenths: int, tiers: list[dict[str, object]]) -> dict[str, object]:
    """10 cases: must-pass ones pass everywhere; `repair_rate_tenths` optional ones fail on haiku."""
    results = []
    for i in range(10):
        fails_on_haiku = i < repair_rate_tenths
        results.append(result("m", f"c{i}", "haiku", not fails_on_haiku, must_pass=not fails_on_haiku))
        results.append(result("m", f"c{i}", "opus", True, must_pass=not fails_on_haiku))
    return recommend_skill("m", results, tiers)


def test_a_60_percent_repair_rate_makes_the_cheap_route_cost_more_than_the_strong_one() -> None:
    # small at half the strong price: 0.016 + 0.6 x 0.032 = 0.0352 per success > 0.032
    tiers = _tiers((5, 15), (7, 21), (10, 30))
    rec = _repair_scenario(6, tiers)
    haiku, opus = rec["tiers"]
    assert haiku["expected_cost"] == pytest.approx(0.016 + 0.6 * 0.032)
    assert haiku["cost_per_success"] == pytest.approx(0.0352)
    assert opus["cost_per_success"] == pytest.approx(0.032)
    assert haiku["cost_per_success"] > opus["cost_per_success"]
    assert rec["minimum"] == "haiku" and rec["preferred"] == "opus"


def test_the_same_repair_rate_at_seed_prices_still_favours_the_small_route() -> None:
    # seed 002: 0.0016 + 0.6 x 0.032 = 0.0208 < 0.032
    rec = _repair_scenario(6, _tiers((0.5, 1.5), (3, 15), (10, 30)))
    assert rec["tiers"][0]["cost_per_success"] == pytest.approx(0.0208)
    assert rec["preferred"] == "haiku"


def test_a_10_percent_repair_rate_keeps_the_small_route_cheapest() -> None:
    rec = _repair_scenario(1, _tiers((5, 15), (7, 21), (10, 30)))
    assert rec["tiers"][0]["cost_per_success"] == pytest.approx(0.016 + 0.1 * 0.032)
    assert rec["preferred"] == "haiku"


def test_failures_of_the_retry_tier_lower_the_success_and_raise_the_cost_per_success() -> None:
    results = [result("m", "a", "haiku", True), result("m", "b", "haiku", False, must_pass=False),
               result("m", "a", "opus", True), result("m", "b", "opus", False, must_pass=False)]
    rec = recommend_skill("m", results, TIERS)
    haiku, opus = rec["tiers"]
    c_h, c_o = costs.usd({"input": 1, "output": 5}, 2000, 400), costs.usd({"input": 15, "output": 75}, 2000, 400)
    assert haiku["expected_success"] == pytest.approx(0.5 + 0.5 * 0.5)
    assert haiku["cost_per_success"] == pytest.approx((c_h + 0.5 * c_o) / 0.75)
    assert opus["cost_per_success"] == pytest.approx(c_o / 0.5)


def test_results_with_only_a_total_use_relative_units() -> None:
    results = [result("m", "a", "haiku", True, total_only=True), result("m", "a", "opus", True, total_only=True)]
    rec = recommend_skill("m", results, TIERS)
    assert rec["cost_unit"] == costs.RELATIVE
    assert [r["mean_cost"] for r in rec["tiers"]] == [2400 * 1, 2400 * 25]


def test_tiers_without_prices_use_relative_units() -> None:
    tiers = [{"name": t["name"], "cost_ratio": t["cost_ratio"], "price_per_mtok": None} for t in TIERS]
    rec = recommend_skill("m", [result("m", "a", "sonnet", True)], tiers)
    assert rec["cost_unit"] == costs.RELATIVE and rec["tiers"][0]["mean_cost"] == 2400 * 5


def test_recommend_filters_by_skill_and_names_its_data() -> None:
    results = [result("a", "x", "haiku", True), result("b", "x", "haiku", True), result("b", "y", "opus", True)]
    assert [r["skill"] for r in recommend(results, TIERS)] == ["a", "b"]
    only = recommend(results, TIERS, "b")
    assert len(only) == 1 and only[0]["source"].startswith("eval_results: 2 rows for skill 'b'")
