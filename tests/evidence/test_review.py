from __future__ import annotations

from typing import Any

import pytest

from tierwise.evidence.jsonl import OutcomeRecord
from tierwise.evidence.recommend import recommend_skill
from tierwise.evidence.review import Run, review

from .helpers import TIERS, result

COST = {"haiku": 0.001, "sonnet": 0.005, "opus": 0.025}


def run(run_id: str, tier: str, skill: str = "mapper") -> Run:
    return Run(run_id=run_id, skill=skill, tier=tier, timestamp="2026-05-01T00:00:00Z", cost_usd=COST[tier],
               input_tokens=1000, output_tokens=100, usage_rows=1, strong_cost_usd=COST["opus"],
               strong_source="config:tier opus")


def oc(run_id: str, outcome: str, tier_needed: str | None = None, segment: str | None = None) -> OutcomeRecord:
    return OutcomeRecord(run_id=run_id, outcome=outcome, tier_needed=tier_needed, note=None, segment=segment,
                         at="2026-05-01T00:00:00Z", line=0)


def _evals_haiku_enough() -> dict[str, dict[str, Any]]:
    results = [result("mapper", f"c{i}", t, True) for i in range(3) for t in ("haiku", "sonnet", "opus")]
    return {"mapper": recommend_skill("mapper", results, TIERS)}


def test_planted_false_easy_and_false_hard_routes_are_found_exactly() -> None:
    runs = [run("ok", "haiku"), run("easy1", "haiku"), run("easy2", "sonnet"), run("hard1", "opus"),
            run("hard2", "sonnet"), run("top-failed", "opus"), run("no-outcome", "haiku"), run("right", "sonnet"),
            run("other", "opus", skill="other")]
    outcomes = {o["run_id"]: o for o in [
        oc("ok", "success"), oc("easy1", "escalated"), oc("easy2", "failed", "opus"), oc("hard1", "success"),
        oc("hard2", "success", "haiku"), oc("top-failed", "failed"), oc("right", "repaired", "sonnet"),
        oc("other", "success"),
    ]}
    report = review(runs, outcomes, _evals_haiku_enough(), TIERS)
    mapper = next(g for g in report["groups"] if g["skill"] == "mapper")
    other = next(g for g in report["groups"] if g["skill"] == "other")
    assert sorted(r["run_id"] for r in mapper["false_easy"]["runs"]) == ["easy1", "easy2"]
    assert sorted(r["run_id"] for r in mapper["false_hard"]["runs"]) == ["hard1", "hard2"]
    assert mapper["false_easy"]["value"] == 2 and mapper["false_hard"]["value"] == 2
    evidence = {r["run_id"]: r["evidence"] for r in mapper["false_hard"]["runs"]}
    assert "eval results: haiku passes every must-pass case" in evidence["hard1"]
    assert "outcome says haiku was enough" in evidence["hard2"]
    assert other["false_easy"]["value"] == 0 and other["false_hard"]["value"] == 0  # no eval evidence there
    matrix = mapper["confusion_matrix"]["value"]
    assert matrix == {"haiku": {"haiku": 1, "unknown": 1}, "sonnet": {"opus": 1, "haiku": 1, "sonnet": 1},
                      "opus": {"opus": 1, "unknown": 1}}
    assert mapper["runs"]["value"] == 8 and mapper["with_outcome"]["value"] == 7
    assert mapper["escalation_rate"]["value"] == pytest.approx(1 / 7)
    assert mapper["repair_rate"]["value"] == pytest.approx(1 / 7)
    for key in ("runs", "with_outcome", "confusion_matrix", "false_easy", "false_hard", "success_rate",
                "cost_per_success_usd", "all_strong_cost_per_success_usd", "baseline_success_rate"):
        assert mapper[key]["source"], key


def test_groups_follow_the_outcome_segment() -> None:
    runs = [run("a", "haiku"), run("b", "haiku"), run("c", "haiku")]
    outcomes = {"a": oc("a", "success", segment="faq"), "b": oc("b", "failed", segment="billing")}
    report = review(runs, outcomes, {}, TIERS)
    assert [(g["segment"], g["runs"]["value"]) for g in report["groups"]] == [
        ("(none)", 1), ("billing", 1), ("faq", 1)]


def _mix(cheap_successes: int, cheap_total: int) -> dict[str, Any]:
    runs = [run(f"h{i}", "haiku") for i in range(cheap_total)] + [run(f"o{i}", "opus") for i in range(5)]
    outcomes = {f"h{i}": oc(f"h{i}", "success" if i < cheap_successes else "failed") for i in range(cheap_total)}
    outcomes |= {f"o{i}": oc(f"o{i}", "success") for i in range(5)}
    return review(runs, outcomes, {}, TIERS, tolerance=0.02)["groups"][0]


def test_savings_when_the_success_rate_holds() -> None:
    g = _mix(15, 15)
    assert g["verdict"] == "savings"
    actual = (15 * 0.001 + 5 * 0.025) / 20
    assert g["cost_per_success_usd"]["value"] == pytest.approx(actual)
    assert g["all_strong_cost_per_success_usd"]["value"] == pytest.approx(0.025)
    assert g["savings_per_success_usd"]["value"] == pytest.approx(0.025 - actual)
    assert "5 runs routed to opus" in g["baseline_success_rate"]["source"]


def test_savings_are_vetoed_when_the_success_rate_falls_beyond_the_tolerance() -> None:
    g = _mix(12, 15)  # 17/20 = 85% vs 100% on opus
    assert g["cost_per_success_usd"]["value"] < g["all_strong_cost_per_success_usd"]["value"]  # cheaper...
    assert g["verdict"] == "vetoed"  # ...but not a saving
    assert g["savings_per_success_usd"]["value"] is None
    assert "15.0 points below" in g["verdict_reason"] and "tolerance of 2.0 points" in g["verdict_reason"]


def test_a_fall_within_the_tolerance_is_not_vetoed() -> None:
    runs = [run(f"h{i}", "haiku") for i in range(99)] + [run("o", "opus")]
    outcomes = {f"h{i}": oc(f"h{i}", "success" if i else "failed") for i in range(99)} | {"o": oc("o", "success")}
    g = review(runs, outcomes, {}, TIERS, tolerance=0.02)["groups"][0]
    assert g["success_rate"]["value"] == pytest.approx(0.99) and g["verdict"] == "savings"
    assert review(runs, outcomes, {}, TIERS, tolerance=0.005)["groups"][0]["verdict"] == "vetoed"


def test_no_outcomes_means_unverified_not_savings() -> None:
    g = review([run("a", "haiku")], {}, {}, TIERS)["groups"][0]
    assert g["verdict"] == "unverified" and g["savings_per_success_usd"]["value"] is None


def test_the_baseline_falls_back_to_the_eval_pass_rate_on_the_strong_tier() -> None:
    results = [result("mapper", "a", "opus", True), result("mapper", "b", "opus", False, must_pass=False)]
    recs = {"mapper": recommend_skill("mapper", results, TIERS)}
    g = review([run("a", "haiku")], {"a": oc("a", "success")}, recs, TIERS)["groups"][0]
    assert g["baseline_success_rate"]["value"] == 0.5 and "eval pass rate on opus" in g["baseline_success_rate"][
        "source"]
    assert g["all_strong_cost_per_success_usd"]["value"] == pytest.approx(0.025 / 0.5)
    assert g["verdict"] == "savings"


def test_a_cheap_route_that_costs_more_per_success_is_no_saving() -> None:
    runs = [run(f"s{i}", "sonnet") for i in range(10)] + [run("o", "opus")]
    outcomes = {f"s{i}": oc(f"s{i}", "success" if i < 10 else "failed") for i in range(10)} | {"o": oc("o", "success")}
    for r in runs[:10]:
        r["cost_usd"] = 0.03  # a repair loop made the sonnet runs dearer than opus
    g = review(runs, outcomes, {}, TIERS)["groups"][0]
    assert g["verdict"] == "no savings"


def test_segment_eval_results_decide_false_hard_for_their_segment() -> None:
    from tierwise.evidence.recommend import recommend_by_segment

    results = []
    for t in ("haiku", "sonnet", "opus"):
        r = result("mapper", "faq-1", t, True)
        r["segment"] = "faq"
        results.append(r)
        r = result("mapper", "billing-1", t, t != "haiku")
        r["segment"] = "billing"
        results.append(r)
    recs = {"mapper": recommend_skill("mapper", results, TIERS)}
    assert recs["mapper"]["minimum"] == "sonnet"  # over all cases
    by_seg = recommend_by_segment(results, TIERS)
    runs = [run("f", "sonnet"), run("b", "sonnet")]
    outcomes = {"f": oc("f", "success", segment="faq"), "b": oc("b", "success", segment="billing")}
    groups = {g["segment"]: g for g in review(runs, outcomes, recs, TIERS, segment_recommendations=by_seg)["groups"]}
    assert [r["run_id"] for r in groups["faq"]["false_hard"]["runs"]] == ["f"]
    assert "segment faq" in groups["faq"]["false_hard"]["source"]
    assert groups["billing"]["false_hard"]["value"] == 0
    # without the per-segment evidence, sonnet is the skill's minimum and nothing is false-hard
    plain = review(runs, outcomes, recs, TIERS)["groups"]
    assert all(g["false_hard"]["value"] == 0 for g in plain)
