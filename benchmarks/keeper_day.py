"""Budget keeper benchmark: a simulated day of 100 000 incidents.

The 10M plan (.specify/memory/budget_network.yaml) scaled proportionally to the flow
(100 000 incidents x ~50K tokens = 5 000 000 000 tokens a day, the seed's rule "for
larger flows scale the budget proportionally"), a deterministic flow spread over the
day (keeper.scenario.generate_queue with spread=True) and local-coder down 11:00-11:45.
The simulation runs minute by minute over the whole day (1440 minutes).

Reports the median wall time of ``simulate`` and its ratio to a baseline measured in the
same run: a plain Python loop over the same incidents that routes each one by severity
and blast radius and adds its tokens to a per-tier, per-phase total (the least work any
keeper must do per incident). Both exclude generating the flow.

    .venv/bin/python benchmarks/keeper_day.py [--incidents 100000] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _scaled_plan(incidents: int) -> dict[str, Any]:
    from tierwise.keeper.spec import compile_plan, load_spec

    spec = load_spec(str(REPO / ".specify" / "memory" / "budget_network.yaml"))
    factor = max(1, round(incidents * 50_000 / spec["daily_budget_tokens"]))
    scaled = {"daily_budget_tokens": spec["daily_budget_tokens"] * factor,
              "phases": {p: {k: (v * factor if k != "sla_p95" else v) for k, v in body.items()}
                         for p, body in spec["phases"].items()}}
    return compile_plan(scaled)


def _baseline(incidents: list[dict[str, Any]], routine: str, frontier: str) -> dict[str, dict[str, int]]:
    spend: dict[str, dict[str, int]] = {routine: {}, frontier: {}}
    for inc in incidents:
        tier = frontier if inc["severity"] == "P0" or inc["blast_radius"] >= 5 else routine
        spend[tier][inc["phase"]] = spend[tier].get(inc["phase"], 0) + inc["tokens"]
    return spend


def main(argv: list[str] | None = None) -> int:
    from tierwise.keeper.scenario import generated_scenario, parse_failure
    from tierwise.keeper.simulate import simulate
    from tierwise.keeper.spec import tier_by_role

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    plan = _scaled_plan(args.incidents)
    failure = parse_failure("11:00,local-coder,down,45m", plan)
    scenario = generated_scenario(plan, [failure], args.incidents, 120, spread=True)
    routine, frontier = tier_by_role(plan, "routine"), tier_by_role(plan, "frontier")

    sim_times, base_times = [], []
    result: dict[str, Any] = {}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        _baseline(scenario["incidents"], routine, frontier)
        base_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = simulate(plan, scenario, until_end_of_day=True)
        sim_times.append(time.perf_counter() - t0)
    sim, base = statistics.median(sim_times), statistics.median(base_times)
    report = {
        "incidents": args.incidents,
        "daily_budget_tokens": plan["daily_budget_tokens"],
        "minutes_simulated": result["window"]["minutes"],
        "simulate_s": round(sim, 4),
        "baseline_loop_s": round(base, 4),
        "ratio": round(sim / base, 1) if base else None,
        "incidents_per_s": round(args.incidents / sim),
        "runs": args.runs,
        "outcome": {k: result[k] for k in ("failover_to_frontier", "degraded_queue", "manual_queue",
                                           "token_health_min", "mttr_min", "escalation_share",
                                           "emergency_activations")}
                   | {"served": result["served"]},
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"simulated day of {args.incidents:,} incidents ({report['minutes_simulated']} minutes, "
              f"plan {plan['daily_budget_tokens']:,} tokens): {sim:.3f} s median of {args.runs} "
              f"({report['incidents_per_s']:,} incidents/s)")
        print(f"baseline loop over the same incidents: {base:.4f} s; ratio {report['ratio']}x")
        print(f"outcome: {json.dumps(report['outcome'])}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
