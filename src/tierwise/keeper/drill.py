"""Daily budget drill: replay one incident flow through the plan with the routine tier
down for several outage lengths and compare MTTR, escalation share, manual queue and
token_health_min. Two signals from the seed are flagged:

* ``failover_too_broad``: on a short outage (<= ``SHORT_OUTAGE_MIN``) the frontier served
  non-critical work (a failover outside P0/P1);
* ``manual_too_nervous``: the manual channel opened although the queue never went
  above its limit (the manual timeout / SLA thresholds are too nervous).

Each outage's ``warnings`` (an outage past 24:00 is cut there) are repeated, once each, in
the drill's ``warnings``.
"""

from __future__ import annotations

import copy
from typing import Any

from tierwise.keeper.simulate import CRITICAL, simulate

SHORT_OUTAGE_MIN = 15


def run_drill(plan: dict[str, Any], base: dict[str, Any], tier: str, at: int, outages_min: list[int]) -> dict[str, Any]:
    rows = []
    results = []
    for minutes in outages_min:
        scenario = copy.deepcopy(base)
        scenario["failures"] = [{"at": at, "tier": tier, "state": "down", "duration_s": minutes * 60.0,
                                 "minutes": minutes}]
        scenario["name"] = f"{base.get('name', 'drill')} / {tier} down {minutes}m"
        result = simulate(plan, scenario)
        results.append(result)
        non_critical = sum(1 for i in result.get("incidents", []) if i["outcome"] == "failover"
                           and i["severity"] not in CRITICAL)
        queue = result["incidents_in_outage"]
        share = result["failover_to_frontier"] / queue if queue else 0.0
        signals = []
        if minutes <= SHORT_OUTAGE_MIN and non_critical:
            signals.append("failover_too_broad")
        if result["manual_queue"] > 0 and result["peak_queue"] <= result["queue_limit"]:
            signals.append("manual_too_nervous")
        rows.append({
            "outage_min": minutes,
            "mttr_min": result["mttr_min"],
            "mttr_p95_s": result["mttr_p95_s"],
            "escalation_share": result["escalation_share"],
            "failover_to_frontier": result["failover_to_frontier"],
            "failover_share": round(share, 4),
            "non_critical_failover": non_critical,
            "manual_queue": result["manual_queue"],
            "peak_queue": result["peak_queue"],
            "queue_limit": result["queue_limit"],
            "token_health_min": result["token_health_min"],
            "guard_breached": result["guard"]["breached"],
            "emergency_activations": result["emergency_activations"],
            "signals": signals,
            "warnings": result["warnings"],
        })
    worst = max(range(len(results)), key=lambda k: outages_min[k]) if results else None
    metrics: dict[str, Any] = dict(results[worst]["metrics"]) if worst is not None else {}
    if worst is not None:
        metrics["source"] = f"drill, worst outage {outages_min[worst]}m"
    warnings = list(dict.fromkeys(w for r in results for w in r["warnings"]))  # each once, in order
    return {
        "tier": tier,
        "warnings": warnings,
        "outages": rows,
        "signals": sorted({s for r in rows for s in r["signals"]}),
        "metrics": metrics,
    }
