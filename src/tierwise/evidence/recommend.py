"""Pass rates per tier and the recommended ``minimum`` / ``preferred`` (pure).

- **minimum**: the lowest tier that passes *every* must-pass case. A case
  passes on a tier when every recorded result of it on that tier passed; a
  must-pass case with no result on a tier means that tier is not proven.
- **preferred**: among the evaluated tiers from the minimum up, the lowest
  expected cost per successful outcome, counting repair: a case that fails on
  tier ``t`` is retried on the most capable evaluated tier ``E`` and pays for
  both attempts (seed 002)::

      cost(t)    = C_t + f_t x C_E           (C = mean cost of a result, f = failure share)
      success(t) = p_t + f_t x p_E           (p = pass share)
      cost per success(t) = cost(t) / success(t)      (for t = E: C_E / p_E)

  Ties go to the more capable tier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tierwise.evidence import costs
from tierwise.evidence.jsonl import EvalResult

# (tier, input tokens, output tokens) -> USD, or None when that tier has no known price
UsdCost = Callable[[str, int, int], "float | None"]


def config_usd_cost(tiers: list[dict[str, Any]]) -> UsdCost:
    """USD from the tiers' ``price_per_mtok`` only (the commands use the ledger's pricing)."""
    prices = costs.tier_prices(tiers)

    def cost(tier: str, inp: int, outp: int) -> float | None:
        price = prices.get(tier)
        return costs.usd(price, inp, outp) if price else None

    return cost


def result_costs(results: list[EvalResult], tiers: list[dict[str, Any]], usd_cost: UsdCost) -> tuple[list[float], str]:
    """Each result's cost and the unit: USD when every result can be priced, else relative."""
    usd: list[float] = []
    for r in results:
        value = (usd_cost(r["tier"], r["input_tokens"], r["output_tokens"])
                 if r["input_tokens"] is not None and r["output_tokens"] is not None else None)
        if value is None:
            ratios = costs.cost_ratios(tiers)
            return [r["total_tokens"] * ratios.get(r["tier"], 1.0) for r in results], costs.RELATIVE
        usd.append(value)
    return usd, costs.USD


def recommend_skill(
    skill: str, results: list[EvalResult], tiers: list[dict[str, Any]], usd_cost: UsdCost | None = None
) -> dict[str, Any]:
    order = [t["name"] for t in tiers]
    mine = [r for r in results if r["skill"] == skill]
    cost_list, unit = result_costs(mine, tiers, usd_cost or config_usd_cost(tiers))
    cost_of = {id(r): c for r, c in zip(mine, cost_list)}
    evaluated = [t for t in order if any(r["tier"] == t for r in mine)]
    must_cases = sorted({r["case"] for r in mine if r["must_pass"]})
    rows: list[dict[str, Any]] = []
    for tier in evaluated:
        rs = [r for r in mine if r["tier"] == tier]
        passed = sum(r["passed"] for r in rs)
        by_case: dict[str, list[bool]] = {}
        for r in rs:
            by_case.setdefault(r["case"], []).append(r["passed"])
        must_ok = [c for c in must_cases if c in by_case and all(by_case[c])]
        must_missing = [c for c in must_cases if c not in by_case]
        must_failed = [c for c in must_cases if c in by_case and not all(by_case[c])]
        rows.append({
            "tier": tier,
            "results": len(rs),
            "cases": len(by_case),
            "passed": passed,
            "pass_rate": passed / len(rs),
            "repaired": sum(r["repaired"] for r in rs),
            "failed": len(rs) - passed,
            "must_pass_cases": len(must_cases),
            "must_pass_passed": len(must_ok),
            "must_pass_failed": must_failed,
            "must_pass_missing": must_missing,
            "passes_all_must_pass": bool(must_cases) and len(must_ok) == len(must_cases),
            "mean_cost": sum(cost_of[id(r)] for r in rs) / len(rs),
        })
    minimum: str | None = None
    if not must_cases:
        min_reason = "no must-pass cases recorded for this skill: minimum not set"
    else:
        minimum = next((row["tier"] for row in rows if row["passes_all_must_pass"]), None)
        if minimum is None:
            min_reason = f"no evaluated tier passes all {len(must_cases)} must-pass cases: minimum not set"
        else:
            below = [f"{row['tier']} passes {row['must_pass_passed']}/{len(must_cases)}"
                     for row in rows if row["tier"] != minimum and order.index(row["tier"]) < order.index(minimum)]
            min_reason = f"{minimum} is the lowest tier passing all {len(must_cases)} must-pass cases" + (
                f" ({'; '.join(below)})" if below else "")
    preferred: str | None = None
    pref_reason = "no minimum, so no preferred tier is recommended"
    if rows and minimum is not None:
        top = rows[-1]
        best: tuple[float, int] | None = None
        for i, row in enumerate(rows):
            if order.index(row["tier"]) < order.index(minimum):
                row["cost_per_success"] = None
                row["candidate"] = False
                continue
            row["candidate"] = True
            p, f = row["pass_rate"], 1 - row["pass_rate"]
            if row is top:
                exp_cost, success = row["mean_cost"], p
            else:
                exp_cost = row["mean_cost"] + f * top["mean_cost"]
                success = p + f * top["pass_rate"]
            row["expected_cost"] = exp_cost
            row["expected_success"] = success
            row["cost_per_success"] = exp_cost / success if success > 0 else None
            cps = row["cost_per_success"]
            if cps is not None and (best is None or cps <= best[0]):
                best = (cps, i)
        if best is None:
            pref_reason = "no candidate tier ever succeeds: preferred not set"
        else:
            preferred = rows[best[1]]["tier"]
            others = [f"{row['tier']} {row['cost_per_success']:.6g}" for row in rows
                      if row.get("cost_per_success") is not None and row["tier"] != preferred]
            pref_reason = (f"{preferred} has the lowest expected cost per successful outcome "
                           f"({best[0]:.6g} {unit}; failures retried on {top['tier']})"
                           + (f"; others: {', '.join(others)}" if others else ""))
    runs = sorted({r["run_at"] for r in mine})
    return {
        "skill": skill,
        "cost_unit": unit,
        "source": f"eval_results: {len(mine)} rows for skill {skill!r}"
        + (f", run_at {runs[0]} .. {runs[-1]}" if runs else ""),
        "must_pass_cases": must_cases,
        "tiers": rows,
        "minimum": minimum,
        "minimum_reason": min_reason,
        "preferred": preferred,
        "preferred_reason": pref_reason,
        "retry_tier": rows[-1]["tier"] if rows else None,
    }


def recommend(
    results: list[EvalResult], tiers: list[dict[str, Any]], skill: str | None = None, usd_cost: UsdCost | None = None
) -> list[dict[str, Any]]:
    skills = sorted({r["skill"] for r in results if skill is None or r["skill"] == skill})
    return [recommend_skill(s, results, tiers, usd_cost) for s in skills]


def recommend_by_segment(
    results: list[EvalResult], tiers: list[dict[str, Any]], usd_cost: UsdCost | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """(skill, segment) -> the recommendation over that segment's results only."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for skill, seg in sorted({(r["skill"], r["segment"]) for r in results if r["segment"]}):
        mine = [r for r in results if r["skill"] == skill and r["segment"] == seg]
        out[(skill, seg)] = recommend_skill(skill, mine, tiers, usd_cost)
    return out
