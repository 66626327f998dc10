"""The route review (pure): routed runs + outcomes + eval results in, findings out.

Per skill and segment (the outcome's ``segment``; runs without one are
``(none)``):

- **confusion matrix**: tier routed x tier needed, over runs with an outcome.
  Tier needed = the outcome's ``tier_needed`` when given; else the routed tier
  for ``success``/``repaired``; else ``unknown``.
- **false-easy**: the run needed more than it got: ``tier_needed`` above the
  routed tier, or (no ``tier_needed``) ``escalated``/``failed`` on a tier below
  the most capable one.
- **false-hard**: the run got more than it needed: ``tier_needed`` below the
  routed tier, or (no ``tier_needed``, outcome not escalated/failed) the eval
  results' recommended minimum for the skill (the lowest tier passing every
  must-pass case) is below the routed tier.
- **rates** over runs with an outcome: success (success + repaired on the
  routed tier), escalation, repair, failure.
- **cost per successful outcome** = ledger cost of the runs with an outcome /
  successes; **all strong** = the same runs priced on the most capable tier /
  (runs x the all-strong success rate). That baseline rate comes from the
  group's own runs routed to the most capable tier when it has some with an
  outcome, else from the eval pass rate on that tier.
- **verdict**: ``savings`` only when the cost per success is lower *and* the
  success rate is no more than ``tolerance`` below the baseline; ``vetoed``
  when it fell further (the lower cost is then not a saving); ``unverified``
  without outcomes or a baseline; ``no savings`` otherwise.
"""

from __future__ import annotations

from typing import Any, TypedDict

from tierwise.evidence import DEFAULT_TOLERANCE
from tierwise.evidence.jsonl import OutcomeRecord

__all__ = ["DEFAULT_TOLERANCE", "NO_SEGMENT", "Run", "classify", "review"]
NO_SEGMENT = "(none)"


class Run(TypedDict):
    run_id: str
    skill: str
    tier: str
    timestamp: str
    cost_usd: float | None
    input_tokens: int | None
    output_tokens: int | None
    usage_rows: int
    strong_cost_usd: float | None  # the run's usage priced on the most capable tier
    strong_source: str  # where that price came from


def _rank(order: list[str], tier: str | None) -> int | None:
    return order.index(tier) if tier in order else None


def _needed(run: Run, oc: OutcomeRecord) -> str:
    if oc["tier_needed"]:
        return oc["tier_needed"]
    if oc["outcome"] in ("success", "repaired"):
        return run["tier"]
    return "unknown"


def classify(run: Run, oc: OutcomeRecord | None, order: list[str], eval_minimum: str | None) -> tuple[str | None, str]:
    """('false-easy' | 'false-hard' | None, the evidence)."""
    routed = _rank(order, run["tier"])
    if routed is None:
        return None, "routed tier not in the config"
    if oc is not None and oc["tier_needed"]:
        needed = _rank(order, oc["tier_needed"])
        assert needed is not None
        if needed > routed:
            return "false-easy", f"outcome says {oc['tier_needed']} was needed"
        if needed < routed:
            return "false-hard", f"outcome says {oc['tier_needed']} was enough"
        return None, "outcome's tier_needed = routed tier"
    if oc is not None and oc["outcome"] in ("escalated", "failed"):
        if routed < len(order) - 1:
            return "false-easy", f"outcome {oc['outcome']} on {run['tier']}"
        return None, f"outcome {oc['outcome']} on the most capable tier"
    minimum = _rank(order, eval_minimum)
    if minimum is not None and minimum < routed:
        return "false-hard", f"eval results: {eval_minimum} passes every must-pass case"
    return None, "no evidence of a wrong route"


def review(
    runs: list[Run],
    outcomes: dict[str, OutcomeRecord],
    recommendations: dict[str, dict[str, Any]],
    tiers: list[dict[str, Any]],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    window: str = "all time",
    include_runs: bool = False,
    segment_recommendations: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``recommendations``: skill -> :func:`recommend.recommend_skill` output (eval evidence);
    ``segment_recommendations``: (skill, segment) -> the same over that segment's eval
    results only, used for the runs of that segment when present."""
    order = [t["name"] for t in tiers]
    top = order[-1]
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        oc = outcomes.get(run["run_id"])
        seg = (oc["segment"] if oc and oc["segment"] else None) or NO_SEGMENT
        groups.setdefault((run["skill"], seg), []).append(run)
    out: list[dict[str, Any]] = []
    for (skill, seg), grs in sorted(groups.items()):
        rec = (segment_recommendations or {}).get((skill, seg))
        if rec is not None:
            eval_src = f"{rec['source']}, segment {seg}"
        else:
            rec = recommendations.get(skill)
            eval_src = rec["source"] if rec else "eval_results: 0 rows for this skill"
        eval_min = rec["minimum"] if rec else None
        where = f"decisions: {len(grs)} routed runs of {skill!r}, segment {seg}, {window}"
        with_oc = [(r, outcomes[r["run_id"]]) for r in grs if r["run_id"] in outcomes]
        oc_src = f"outcomes: {len(with_oc)} rows joined on run_id to the {len(grs)} runs"
        usage_rows = sum(r["usage_rows"] for r in grs)
        counts = {k: sum(1 for _, o in with_oc if o["outcome"] == k) for k in ("success", "repaired", "escalated",
                                                                               "failed")}
        n_o = len(with_oc)
        matrix: dict[str, dict[str, int]] = {}
        for r, o in with_oc:
            row = matrix.setdefault(r["tier"], {})
            need = _needed(r, o)
            row[need] = row.get(need, 0) + 1
        false_easy: list[dict[str, str]] = []
        false_hard: list[dict[str, str]] = []
        for r in grs:
            kind, why = classify(r, outcomes.get(r["run_id"]), order, eval_min)
            if kind == "false-easy":
                false_easy.append({"run_id": r["run_id"], "tier": r["tier"], "evidence": why})
            elif kind == "false-hard":
                false_hard.append({"run_id": r["run_id"], "tier": r["tier"], "evidence": why})
        successes = counts["success"] + counts["repaired"]

        def rate(k: int) -> float | None:
            return k / n_o if n_o else None

        success_rate = rate(successes)
        priced = [(r, o) for r, o in with_oc if r["cost_usd"] is not None]
        cost_src = f"usage: {usage_rows} rows (cost_usd) joined on run_id; {len(priced)}/{n_o} runs with outcome priced"
        actual_cost = sum(r["cost_usd"] or 0.0 for r, _ in priced)
        priced_ok = sum(1 for _, o in priced if o["outcome"] in ("success", "repaired"))
        cps = actual_cost / priced_ok if priced_ok else None
        top_runs = [o for r, o in with_oc if r["tier"] == top]
        baseline: float | None
        if top_runs:
            baseline = sum(o["outcome"] in ("success", "repaired") for o in top_runs) / len(top_runs)
            base_src = f"outcomes of the {len(top_runs)} runs routed to {top} in this group"
        elif rec and rec["tiers"] and rec["tiers"][-1]["tier"] == top:
            baseline = rec["tiers"][-1]["pass_rate"]
            base_src = f"eval pass rate on {top} ({eval_src})"
        else:
            baseline = None
            base_src = f"none: no outcomes on {top} runs here and no eval results on {top}"
        strong_known = [r["strong_cost_usd"] for r, _ in priced if r["strong_cost_usd"] is not None]
        price_srcs = sorted({r["strong_source"] for r, _ in priced if r["strong_cost_usd"] is not None})
        strong_src = (f"usage tokens of {len(strong_known)}/{len(priced)} priced runs re-priced on {top} "
                      f"({'; '.join(price_srcs) or 'no price'})")
        all_strong_cps = (sum(strong_known) / (len(strong_known) * baseline)
                          if strong_known and baseline else None)
        if n_o == 0:
            verdict, why = "unverified", "no outcomes recorded for these runs: a cheaper route is not a saving " \
                "until outcomes show the work survived"
        elif baseline is None:
            verdict, why = "unverified", f"no all-strong success baseline ({base_src})"
        elif success_rate is not None and success_rate < baseline - tolerance:
            verdict = "vetoed"
            why = (f"success rate {success_rate:.1%} is {(baseline - success_rate) * 100:.1f} points below the "
                   f"all-strong baseline {baseline:.1%} ({base_src}), beyond the tolerance of "
                   f"{tolerance * 100:.1f} points: the lower cost is not reported as a saving")
        elif cps is None or all_strong_cps is None:
            verdict, why = "unverified", "cost per successful outcome cannot be computed (no priced successes)"
        elif cps < all_strong_cps:
            verdict = "savings"
            why = (f"cost per successful outcome {cps:.6f} USD < all strong {all_strong_cps:.6f} USD with the "
                   f"success rate within {tolerance * 100:.1f} points of the baseline")
        else:
            verdict = "no savings"
            why = f"cost per successful outcome {cps:.6f} USD >= all strong {all_strong_cps:.6f} USD"
        savings = (all_strong_cps - cps) if verdict == "savings" and cps is not None and all_strong_cps else None

        def fig(value: Any, source: str) -> dict[str, Any]:
            return {"value": value, "source": source}

        out.append({
            "skill": skill,
            "segment": seg,
            "runs": fig(len(grs), where),
            "with_outcome": fig(n_o, oc_src),
            "outcomes": fig(counts, oc_src),
            "confusion_matrix": fig(matrix, f"{oc_src}; rows = tier routed (decisions.tier), columns = tier needed"),
            "false_easy": fig(len(false_easy), f"{oc_src}; {where}") | {"runs": false_easy},
            "false_hard": fig(len(false_hard), f"{oc_src}; {eval_src}; eval minimum {eval_min or 'not set'}")
            | {"runs": false_hard},
            "success_rate": fig(success_rate, oc_src),
            "escalation_rate": fig(rate(counts["escalated"]), oc_src),
            "repair_rate": fig(rate(counts["repaired"]), oc_src),
            "failure_rate": fig(rate(counts["failed"]), oc_src),
            "baseline_success_rate": fig(baseline, base_src),
            "cost_usd": fig(actual_cost if priced else None, cost_src),
            "cost_per_success_usd": fig(cps, f"{cost_src}; {oc_src}"),
            "all_strong_cost_per_success_usd": fig(all_strong_cps, f"{strong_src}; baseline: {base_src}"),
            "savings_per_success_usd": fig(savings, "all strong - actual, only when the verdict is savings"),
            "verdict": verdict,
            "verdict_reason": why,
        })
        if include_runs:
            out[-1]["run_list"] = [
                {"run_id": r["run_id"], "tier": r["tier"], "timestamp": r["timestamp"], "cost_usd": r["cost_usd"],
                 "outcome": outcomes[r["run_id"]]["outcome"] if r["run_id"] in outcomes else None,
                 "tier_needed": outcomes[r["run_id"]]["tier_needed"] if r["run_id"] in outcomes else None}
                for r in grs
            ]
    return {"window": window, "tolerance": tolerance, "most_capable_tier": top, "groups": out}
