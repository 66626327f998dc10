"""Failure scenarios: loading a scenario file, ``--failure`` arguments and the
deterministic generated queue.

A scenario (``.specify/scenarios/*.json``, schema budget-scenario.schema.json)::

    {"name": "...", "failures": [{"at": "11:00", "tier": "local-coder", "state": "down", "duration": "45m"}],
     "manual_timeout_sec": 120, "policy": {...optional overrides of keeper.simulate.DEFAULT_POLICY},
     "incidents": [{"id": "INC-01", "severity": "P0", "age_s": 300, "blast_radius": 5,
                    "phase": "diagnosis", "tokens": 52000, "arrive": "11:00"}, ...]}

``arrive`` defaults to the first failure's start: the queue that drops in when the tier fails.

Generated queue (``--queue N``): ``generate_queue(plan, n, at)`` draws N incidents from
``random.Random("tierwise-keeper-queue:<N>:<seed>")``, so the same N gives the same queue
on every machine: severity P0 5% / P1 20% / P2 35% / P3 40%, blast radius 1..5 with
weights 35/30/21/10/4; the phase is weighted by the frontier tier's phase quotas for the
incidents the plan escalates (P0 or blast radius 5) and by the routine tier's otherwise
(reserve excluded), so the flow matches the plan's shape;
tokens uniform in 30 000..70 000 (the seed's ~50K per incident), age uniform in 0..300 s.
With ``spread=True`` arrivals are spread uniformly over the day (the day benchmark);
otherwise every incident arrives at ``at``.
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import Any

from tierwise.keeper.durations import parse_duration
from tierwise.keeper.errors import ScenarioError, UnknownTierError
from tierwise.keeper.schemas import check
from tierwise.keeper.spec import RESERVE_PHASE, read_text

SEVERITY_WEIGHTS = {"P0": 5, "P1": 20, "P2": 35, "P3": 40}
BLAST_WEIGHTS = {1: 35, 2: 30, 3: 21, 4: 10, 5: 4}
TOKENS_RANGE = (30_000, 70_000)
AGE_RANGE_S = (0, 300)

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def clock_to_min(text: str, *, file: str | None = None, key: str | None = None) -> int:
    m = _CLOCK.match(text.strip())
    if not m:
        raise ScenarioError(f"expected a time of day HH:MM, got {text!r}", file=file, key=key, fix='"11:00"')
    return int(m.group(1)) * 60 + int(m.group(2))


def min_to_clock(minute: int | float) -> str:
    m = int(minute)
    return f"{m // 60:02d}:{m % 60:02d}"


def load_scenario(path: str, plan: dict[str, Any]) -> dict[str, Any]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"expected JSON (line {exc.lineno}: {exc.msg})", file=path,
                            fix="see .specify/scenarios/fail_local_45m.json") from None
    return normalize_scenario(data, plan, path)


def normalize_scenario(data: object, plan: dict[str, Any], path: str | None = None) -> dict[str, Any]:
    """Validate a parsed scenario against the schema and the plan; times become minutes of the day."""
    tiers = list(plan["tiers"])
    # The tier names are checked before the schema so an unknown tier gets its own code.
    if isinstance(data, dict) and isinstance(data.get("failures"), list):
        for i, failure in enumerate(data["failures"]):
            if isinstance(failure, dict) and "tier" in failure and failure["tier"] not in tiers:
                raise UnknownTierError(
                    f"expected one of the plan's tiers ({', '.join(tiers)}), got {failure['tier']!r}",
                    file=path, key=f"failures[{i}].tier", fix=f"use one of: {', '.join(tiers)}")
            if isinstance(failure, dict) and "duration" in failure:
                parse_duration(failure["duration"], file=path, key=f"failures[{i}].duration")
    check(data, "budget-scenario.schema.json", file=path, error=ScenarioError,
          fix="see .specify/scenarios/fail_local_45m.json and docs/budget-keeper.md")
    assert isinstance(data, dict)
    failures = []
    for i, f in enumerate(data["failures"]):
        seconds = parse_duration(f["duration"], file=path, key=f"failures[{i}].duration")
        failures.append({"at": clock_to_min(f["at"], file=path, key=f"failures[{i}].at"), "tier": f["tier"],
                         "state": f["state"], "duration_s": seconds, "minutes": int(math.ceil(seconds / 60.0))})
    default_arrive = min((f["at"] for f in failures), default=0)
    phases = [p for p in plan["phases"] if p != RESERVE_PHASE]
    incidents = []
    seen: set[str] = set()
    for i, inc in enumerate(data["incidents"]):
        if inc["phase"] not in phases:
            raise ScenarioError(f"expected one of the plan's phases ({', '.join(phases)}), got {inc['phase']!r}",
                                file=path, key=f"incidents[{i}].phase", fix=f"use one of: {', '.join(phases)}")
        if inc["id"] in seen:
            raise ScenarioError(f"incident id {inc['id']!r} appears twice", file=path, key=f"incidents[{i}].id",
                                fix="give every incident its own id")
        seen.add(inc["id"])
        arrive = clock_to_min(inc["arrive"], file=path, key=f"incidents[{i}].arrive") if "arrive" in inc else default_arrive
        incidents.append({"id": inc["id"], "severity": inc["severity"], "age_s": float(inc["age_s"]),
                          "blast_radius": int(inc["blast_radius"]), "phase": inc["phase"],
                          "tokens": int(inc["tokens"]), "arrive": arrive})
    out: dict[str, Any] = {
        "name": data.get("name", "scenario"),
        "failures": failures,
        "manual_timeout_s": float(data["manual_timeout_sec"]),
        "policy": dict(data.get("policy", {})),
        "incidents": incidents,
    }
    if "start" in data:
        out["start"] = clock_to_min(data["start"], file=path, key="start")
    return out


def parse_failure(text: str, plan: dict[str, Any]) -> dict[str, Any]:
    """``"HH:MM,TIER,down,DURATION"`` -> a failure entry (minutes of the day)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ScenarioError(f"expected HH:MM,TIER,down,DURATION, got {text!r}", key="--failure",
                            fix='--failure "11:00,local-coder,down,45m"')
    at, tier, state, duration = parts
    if tier not in plan["tiers"]:
        raise UnknownTierError(f"expected one of the plan's tiers ({', '.join(plan['tiers'])}), got {tier!r}",
                               key="--failure", fix=f"use one of: {', '.join(plan['tiers'])}")
    if state != "down":
        raise ScenarioError(f"expected the state `down`, got {state!r}", key="--failure",
                            fix='--failure "11:00,local-coder,down,45m"')
    seconds = parse_duration(duration, key="--failure")
    return {"at": clock_to_min(at, key="--failure"), "tier": tier, "state": state, "duration_s": seconds,
            "minutes": int(math.ceil(seconds / 60.0))}


def generate_queue(plan: dict[str, Any], n: int, at: int, *, spread: bool = False, seed: int = 0) -> list[dict[str, Any]]:
    if n < 0:
        raise ScenarioError(f"expected a queue of 0 or more incidents, got {n}", key="--queue", fix="--queue 20")
    rng = random.Random(f"tierwise-keeper-queue:{n}:{seed}")
    routine = next(t for t, b in plan["tiers"].items() if b["role"] == "routine")
    frontier = next(t for t, b in plan["tiers"].items() if b["role"] == "frontier")
    phases = [p for p in plan["phases"] if p != RESERVE_PHASE]
    phase_weights = [max(1, int(plan["phases"][p][routine])) for p in phases]
    escalated_weights = [max(1, int(plan["phases"][p][frontier])) for p in phases]
    sevs, sev_w = list(SEVERITY_WEIGHTS), list(SEVERITY_WEIGHTS.values())
    brs, br_w = list(BLAST_WEIGHTS), list(BLAST_WEIGHTS.values())
    width = len(str(max(n, 1)))
    out = []
    for i in range(n):
        severity = rng.choices(sevs, sev_w)[0]
        age = float(rng.randint(*AGE_RANGE_S))
        blast = rng.choices(brs, br_w)[0]
        escalated = severity == "P0" or blast == 5
        out.append({
            "id": f"GEN-{i + 1:0{width}d}",
            "severity": severity,
            "age_s": age,
            "blast_radius": blast,
            "phase": rng.choices(phases, escalated_weights if escalated else phase_weights)[0],
            "tokens": rng.randint(*TOKENS_RANGE),
            "arrive": rng.randrange(0, 1440) if spread else at,
        })
    if spread:
        out.sort(key=lambda d: (d["arrive"], d["id"]))
    return out


def generated_scenario(plan: dict[str, Any], failures: list[dict[str, Any]], n: int, manual_timeout_s: float,
                       *, policy: dict[str, Any] | None = None, spread: bool = False, seed: int = 0) -> dict[str, Any]:
    at = min((f["at"] for f in failures), default=0)
    return {
        "name": f"generated queue of {n}" + (" over the day" if spread else ""),
        "failures": failures,
        "manual_timeout_s": float(manual_timeout_s),
        "policy": dict(policy or {}),
        "incidents": generate_queue(plan, n, at, spread=spread, seed=seed),
        **({"start": 0} if spread else {}),
    }
