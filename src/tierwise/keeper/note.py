"""The budget note (templates/budget-note.md): five lines for capstone/budget-note.md."""

from __future__ import annotations

import string
from typing import Any

from tierwise.keeper.durations import format_duration

FIELDS = ("risk", "effect", "simulated_floor", "alert_threshold", "decision")

# Used when the project has no templates/budget-note.md; a test keeps the two the same.
DEFAULT_TEMPLATE = """\
risk: "$risk"
effect: "$effect"
simulated_floor: "$simulated_floor"
alert_threshold: "$alert_threshold"
decision: "$decision"
"""


def note_fields(result: dict[str, Any]) -> dict[str, str]:
    failures = result.get("failures") or []
    if failures:
        f = failures[0]
        risk = f"{f['tier']} unavailable {format_duration(f['duration_s'])}"
    else:
        risk = "no tier failure in this run"
    frontier = result["tiers"]["frontier"]
    fo = result["failover_to_frontier"]
    degraded = result["degraded_queue"]
    effect = f"{fo} tasks go to {frontier}, {degraded} remain degraded/manual"
    floor = result["token_health_min"]
    dur = format_duration(failures[0]["duration_s"]) if failures else "run"
    simulated_floor = f"token_health_min == {floor:g} (dip at {dur})"
    guard = result["guard"]["threshold"]
    alert = f"token_health_min < {guard:.2f} (guard from anti-Goodhart table)"
    queue = result["incidents_in_outage"]
    if queue and fo < queue:
        decision = "do not transfer entire queue to expensive tier"
    elif queue:
        decision = "review failover policy: the entire queue went to the expensive tier"
    else:
        decision = "no queue during the outage: keep the plan"
    if result["guard"]["breached"]:
        decision += f"; guard breached at {result['guard']['first_breach_at']}: manual decision required"
    return {"risk": risk, "effect": effect, "simulated_floor": simulated_floor, "alert_threshold": alert,
            "decision": decision}


def render_note(template: str, fields: dict[str, str]) -> str:
    return string.Template(template).safe_substitute({k: v.replace('"', "'") for k, v in fields.items()})
