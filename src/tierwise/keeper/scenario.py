"""Failure scenarios: loading a scenario file, ``--failure`` arguments and the
deterministic generated queue.

A scenario (``.specify/scenarios/*.json``, schema budget-scenario.schema.json)::

    {"name": "...", "failures": [{"at": "11:00", "tier": "local-coder", "state": "down", "duration": "45m"}],
     "manual_timeout_sec": 120, "policy": {...optional overrides of keeper.simulate.DEFAULT_POLICY},
     "incidents": [{"id": "INC-01", "severity": "P0", "age_s": 300, "blast_radius": 5,
                    "phase": "diagnosis", "tokens": 52000, "arrive": "11:00"}, ...]}

``arrive`` defaults to the first failure's start: the queue that drops in when the tier fails.

Generated queue (``--queue N``): ``generate_queue(plan, n, at)`` builds N incidents from the
seed's incident mix (``SEED_MIX``: the severities, ages, blast radii, phases and token costs
of the 20 incidents in .specify/scenarios/fail_local_45m.json):

* N = 20 is the mix itself; N > 20 cycles whole copies of it and N % 20 (or N < 20) takes an
  even sample of it (row ``floor((j + 0.5) * 20 / rest)``), so severities, blast radii and
  phases keep the mix's proportions (2 P0 / 4 P1 / 7 P2 / 7 P3 in 20) for any N;
* every copy after the first, and every incident when ``seed`` is not 0, has its age scaled by
  a factor in 0.7..1.3 and its tokens by 0.9..1.1 drawn from
  ``random.Random("tierwise-keeper-queue:<N>:<seed>")``: the same N and seed give the same
  queue on every machine;
* a mix phase the plan does not have maps to the plan phase at the same relative position.

Arrivals: by default every incident arrives at ``at`` (the queue that drops in when the tier
fails). With ``window_min=W`` the k-th incident arrives at ``at + floor(frac(k * 0.618...) * W)``
(a golden-ratio sequence: evenly spread, severities interleaved; the drill's default flow);
a seed other than 0 shifts the sequence. Arrivals never pass 23:59.

Day flow (``spread=True``, the day benchmark): the seed's queue is an outage's mix, heavier
in P0/P1 and late phases than a whole day, so a day is drawn in the plan's shape instead from
the same ``random.Random``: severity P0 5% / P1 20% / P2 35% / P3 40%, blast radius 1..5
weighted 35/30/21/10/4, the phase weighted by the frontier tier's phase quotas for the
incidents the plan escalates (P0 or blast radius 5) and by the routine tier's otherwise,
tokens uniform in 30 000..70 000, age uniform in 0..300 s, arrivals uniform over the day.
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

DAY_MIN = 1440
# The seed's incident mix: the 20 incidents of .specify/scenarios/fail_local_45m.json as
# (severity, age_s, blast_radius, phase, tokens), in that file's order. A test keeps the two equal.
SEED_MIX: tuple[tuple[str, int, int, str, int], ...] = (
    ("P0", 300, 5, "diagnosis", 52000),
    ("P0", 180, 4, "remediation", 60000),
    ("P1", 150, 4, "plan", 42000),
    ("P1", 240, 3, "triage", 38000),
    ("P1", 45, 3, "classification", 36000),
    ("P1", 200, 2, "plan", 40000),
    ("P2", 260, 4, "diagnosis", 55000),
    ("P2", 120, 3, "triage", 45000),
    ("P2", 30, 3, "classification", 41000),
    ("P2", 210, 2, "remediation", 62000),
    ("P2", 95, 2, "triage", 33000),
    ("P2", 15, 1, "classification", 30000),
    ("P2", 170, 1, "plan", 48000),
    ("P3", 280, 2, "triage", 35000),
    ("P3", 60, 1, "triage", 31000),
    ("P3", 140, 1, "classification", 34000),
    ("P3", 220, 1, "diagnosis", 50000),
    ("P3", 100, 2, "postmortem", 58000),
    ("P3", 10, 1, "triage", 30000),
    ("P3", 190, 1, "classification", 37000),
)
MIX_PHASES = ("triage", "classification", "diagnosis", "plan", "remediation", "postmortem")
AGE_JITTER = 0.3
TOKENS_JITTER = 0.1
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# The day flow (spread=True): drawn in the plan's shape, not the outage queue's.
DAY_SEVERITY_WEIGHTS = {"P0": 5, "P1": 20, "P2": 35, "P3": 40}
DAY_BLAST_WEIGHTS = {1: 35, 2: 30, 3: 21, 4: 10, 5: 4}
DAY_TOKENS_RANGE = (30_000, 70_000)
DAY_AGE_RANGE_S = (0, 300)

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


def _mix_rows(n: int) -> list[tuple[int, tuple[str, int, int, str, int]]]:
    """(copy number, mix row) for each of n incidents: whole copies of the mix, then an even
    sample of it for the remainder (row floor((j + 0.5) * len / rest)), so any n keeps its shape."""
    size = len(SEED_MIX)
    full, rest = divmod(n, size)
    rows = [(c, row) for c in range(full) for row in SEED_MIX]
    rows += [(full, SEED_MIX[int((j + 0.5) * size / rest)]) for j in range(rest)]
    return rows


def _plan_phase(phase: str, phases: list[str]) -> str:
    """A mix phase the plan lacks maps to the plan phase at the same relative position."""
    if phase in phases:
        return phase
    return phases[min(len(phases) - 1, MIX_PHASES.index(phase) * len(phases) // len(MIX_PHASES))]


def generate_queue(plan: dict[str, Any], n: int, at: int, *, spread: bool = False, seed: int = 0,
                   window_min: int = 0) -> list[dict[str, Any]]:
    """N incidents, deterministic for (n, seed): the seed's mix arriving at ``at`` (or over
    ``window_min`` minutes from it), or with ``spread`` a day flow in the plan's shape."""
    if n < 0:
        raise ScenarioError(f"expected a queue of 0 or more incidents, got {n}", key="--queue", fix="--queue 20")
    if spread:
        return _day_flow(plan, n, seed)
    rng = random.Random(f"tierwise-keeper-queue:{n}:{seed}")
    phases = [p for p in plan["phases"] if p != RESERVE_PHASE]
    width = max(0, window_min)
    offset = rng.random() if seed else 0.0
    digits = len(str(max(n, 1)))
    out = []
    for k, (cycle, (severity, age, blast, phase, tokens)) in enumerate(_mix_rows(n)):
        if cycle or seed:
            age = round(age * rng.uniform(1 - AGE_JITTER, 1 + AGE_JITTER))
            tokens = round(tokens * rng.uniform(1 - TOKENS_JITTER, 1 + TOKENS_JITTER))
        arrive = at + int(((k * GOLDEN + offset) % 1.0) * width) if width else at
        out.append({
            "id": f"GEN-{k + 1:0{digits}d}",
            "severity": severity,
            "age_s": float(age),
            "blast_radius": blast,
            "phase": _plan_phase(phase, phases),
            "tokens": int(tokens),
            "arrive": min(arrive, DAY_MIN - 1),
        })
    if width:
        out.sort(key=lambda d: (d["arrive"], d["id"]))
    return out


def _day_flow(plan: dict[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """A day's flow in the plan's shape (the day benchmark): random draws, arrivals over the day."""
    rng = random.Random(f"tierwise-keeper-queue:{n}:{seed}")
    routine = next(t for t, b in plan["tiers"].items() if b["role"] == "routine")
    frontier = next(t for t, b in plan["tiers"].items() if b["role"] == "frontier")
    phases = [p for p in plan["phases"] if p != RESERVE_PHASE]
    phase_weights = [max(1, int(plan["phases"][p][routine])) for p in phases]
    escalated_weights = [max(1, int(plan["phases"][p][frontier])) for p in phases]
    sevs, sev_w = list(DAY_SEVERITY_WEIGHTS), list(DAY_SEVERITY_WEIGHTS.values())
    brs, br_w = list(DAY_BLAST_WEIGHTS), list(DAY_BLAST_WEIGHTS.values())
    width = len(str(max(n, 1)))
    out = []
    for i in range(n):
        severity = rng.choices(sevs, sev_w)[0]
        age = float(rng.randint(*DAY_AGE_RANGE_S))
        blast = rng.choices(brs, br_w)[0]
        escalated = severity == "P0" or blast == 5
        out.append({
            "id": f"GEN-{i + 1:0{width}d}",
            "severity": severity,
            "age_s": age,
            "blast_radius": blast,
            "phase": rng.choices(phases, escalated_weights if escalated else phase_weights)[0],
            "tokens": rng.randint(*DAY_TOKENS_RANGE),
            "arrive": rng.randrange(0, DAY_MIN),
        })
    out.sort(key=lambda d: (d["arrive"], d["id"]))
    return out


def generated_scenario(plan: dict[str, Any], failures: list[dict[str, Any]], n: int, manual_timeout_s: float,
                       *, policy: dict[str, Any] | None = None, spread: bool = False, seed: int = 0,
                       window_min: int = 0) -> dict[str, Any]:
    at = min((f["at"] for f in failures), default=0)
    over = " over the day" if spread else f" over {window_min}m from {min_to_clock(at)}" if window_min > 0 else ""
    return {
        "name": f"generated queue of {n}{over}",
        "failures": failures,
        "manual_timeout_s": float(manual_timeout_s),
        "policy": dict(policy or {}),
        "incidents": generate_queue(plan, n, at, spread=spread, seed=seed, window_min=window_min),
        **({"start": 0} if spread else {}),
    }
