"""Budget network specs (YAML) -> compiled plans (JSON), and plan assertions.

Spec (``.specify/memory/budget_network.yaml``)::

    daily_budget_tokens: 10000000
    roles: {routine: local-coder, frontier: frontier-reviewer}   # optional
    phases:
      triage: {local-coder: 3000000, frontier-reviewer: 120000, sla_p95: "30s"}
      ...
      control_reserve: {local-coder: 700000, frontier-reviewer: 0}

Plan (``tierwise budget compile``)::

    {"daily_budget_tokens": N,
     "tiers": {NAME: {"total_tokens": N, "share": f, "role": "routine|frontier|other"}},
     "phases": {PHASE: {TIER: tokens, ..., "sla_p95_s": seconds | null}}}

Without ``roles`` the first tier the spec names is the routine tier and the
last one the frontier tier. ``control_reserve`` (no SLA) is the reserve phase.
"""

from __future__ import annotations

import json
from typing import Any

from tierwise.hot import fileio
from tierwise.hot.errors import InputError, UsageError
from tierwise.keeper.durations import parse_duration
from tierwise.keeper.errors import (
    NegativeQuotaError,
    PhaseMissingTierError,
    QuotaSumError,
    SpecError,
    UnknownTierError,
)
from tierwise.keeper.schemas import check

RESERVE_PHASE = "control_reserve"
MAX_INPUT_BYTES = 64 * 1024 * 1024
SLA_KEY = "sla_p95"


def read_text(path: str) -> str:
    """A keeper input file (spec, plan, scenario, template) as text, newlines as ``\\n``."""
    text = fileio.read_text(path, limit=MAX_INPUT_BYTES, error_cls=InputError)
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads it


def load_spec(path: str) -> dict[str, Any]:
    import yaml

    text = read_text(path)
    try:
        from tierwise.yamlschema import strict_safe_load

        data = strict_safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SpecError(f"expected valid YAML{where}: {getattr(exc, 'problem', exc)}", file=path, fix="fix the YAML syntax") from None
    return validate_spec(data, path)


def validate_spec(data: object, path: str | None = None) -> dict[str, Any]:
    """Check a parsed spec; the specific mistakes get their own exit codes."""
    if not isinstance(data, dict):
        raise SpecError("expected a mapping with daily_budget_tokens and phases", file=path, key="(top level)",
                        fix="start from .specify/memory/budget_network.yaml")
    budget = data.get("daily_budget_tokens")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise SpecError(f"expected a positive whole number of tokens, got {budget!r}", file=path,
                        key="daily_budget_tokens", fix="daily_budget_tokens: 10000000")
    phases = data.get("phases")
    if not isinstance(phases, dict) or not phases:
        raise SpecError("expected a mapping of phase -> {tier: tokens, sla_p95: duration}", file=path, key="phases",
                        fix="see .specify/memory/budget_network.yaml")
    tiers: list[str] = []
    for phase, body in phases.items():
        if not isinstance(body, dict):
            raise SpecError(f"expected a mapping of tier -> tokens, got {body!r}", file=path, key=f"phases.{phase}",
                            fix=f"phases.{phase}: {{local-coder: 100000, frontier-reviewer: 10000, sla_p95: \"30s\"}}")
        for key, value in body.items():
            where = f"phases.{phase}.{key}"
            if key == SLA_KEY:
                parse_duration(value, file=path, key=where)
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise SpecError(f"expected a whole number of tokens, got {value!r}", file=path, key=where,
                                fix=f"{key}: 100000")
            if value < 0:
                raise NegativeQuotaError(f"expected a quota >= 0, got {value}", file=path, key=where,
                                         fix=f"set {where} to 0 or more; move tokens between phases instead")
            if key not in tiers:
                tiers.append(key)
    for phase, body in phases.items():
        missing = [t for t in tiers if t not in body]
        if missing:
            raise PhaseMissingTierError(
                f"expected a quota for every tier ({', '.join(tiers)}); phase {phase!r} has none for {', '.join(missing)}",
                file=path, key=f"phases.{phase}",
                fix=f"add `{missing[0]}: 0` to phases.{phase} if the tier takes no tokens there")
    if len(tiers) < 2:
        raise SpecError(f"expected at least two tiers (routine and frontier), got {tiers}", file=path, key="phases",
                        fix="give every phase a local-coder and a frontier-reviewer quota")
    roles = data.get("roles")
    if roles is not None:
        if not isinstance(roles, dict):
            raise SpecError(f"expected {{routine: TIER, frontier: TIER}}, got {roles!r}", file=path, key="roles",
                            fix="roles: {routine: local-coder, frontier: frontier-reviewer}")
        for role in ("routine", "frontier"):
            if roles.get(role) not in tiers:
                raise UnknownTierError(f"expected one of the tiers ({', '.join(tiers)}), got {roles.get(role)!r}",
                                       file=path, key=f"roles.{role}", fix=f"roles.{role}: one of {', '.join(tiers)}")
    check(data, "budget-network.schema.json", file=path, error=SpecError,
          fix="see docs/budget-keeper.md for the spec format")
    sums = {t: sum(int(body[t]) for body in phases.values()) for t in tiers}
    total = sum(sums.values())
    if total != budget:
        diff = budget - total
        culprits = _culprits(sums, diff, budget)
        by_tier = ", ".join(f"{t} {n:,} ({n / budget:.1%})" for t, n in sums.items())
        # diff > 0: the quotas fall short of the budget; diff < 0: they exceed it
        amount = f"{abs(diff):,}"
        gap = f"{amount} {'short of' if diff > 0 else 'over'}"
        if len(culprits) == 1:
            tier = culprits[0]
            named = (f"; {tier} is {amount} {'under' if diff > 0 else 'over'} the daily budget; "
                     f"{'raise' if diff > 0 else 'reduce'} its quotas by {amount}")
            fix = f"{'raise' if diff > 0 else 'reduce'} {tier}'s phase quotas by {amount} in total"
        else:
            named = ""
            fix = (f"{'raise' if diff > 0 else 'reduce'} the phase quotas by {amount} in total, "
                   f"or set daily_budget_tokens to {total:,}")
        raise QuotaSumError(
            f"expected the quotas to add up to daily_budget_tokens {budget:,}; they add up to {total:,} "
            f"({gap} the budget){named}; by tier: {by_tier}",
            file=path, key=f"phases.*.{culprits[0]}" if len(culprits) == 1 else "phases", fix=fix)
    return data


def _culprits(sums: dict[str, int], diff: int, budget: int) -> list[str]:
    """Tiers that would land on a whole-percent share of the budget if they took the difference."""
    out = []
    for tier, n in sums.items():
        fixed = n + diff
        if fixed >= 0 and (fixed * 100) % budget == 0 and (n * 100) % budget != 0:
            out.append(tier)
    return out


def compile_plan(spec: dict[str, Any]) -> dict[str, Any]:
    """The plan JSON for a validated spec (deterministic: same spec, same bytes)."""
    budget = int(spec["daily_budget_tokens"])
    phases_in: dict[str, dict[str, Any]] = spec["phases"]
    tiers: list[str] = []
    for body in phases_in.values():
        for key in body:
            if key != SLA_KEY and key not in tiers:
                tiers.append(key)
    roles = spec.get("roles") or {"routine": tiers[0], "frontier": tiers[-1]}
    plan_tiers: dict[str, Any] = {}
    for tier in tiers:
        total = sum(int(body[tier]) for body in phases_in.values())
        role = "routine" if tier == roles["routine"] else "frontier" if tier == roles["frontier"] else "other"
        plan_tiers[tier] = {"total_tokens": total, "share": round(total / budget, 6), "role": role}
    plan_phases: dict[str, Any] = {}
    for phase, body in phases_in.items():
        entry: dict[str, Any] = {tier: int(body[tier]) for tier in tiers}
        entry["sla_p95_s"] = parse_duration(body[SLA_KEY]) if SLA_KEY in body else None
        if entry["sla_p95_s"] is not None and float(entry["sla_p95_s"]).is_integer():
            entry["sla_p95_s"] = int(entry["sla_p95_s"])
        plan_phases[phase] = entry
    return {"daily_budget_tokens": budget, "tiers": plan_tiers, "phases": plan_phases}


def dump_plan(plan: dict[str, Any]) -> str:
    return json.dumps(plan, indent=2) + "\n"


def load_plan(path: str) -> dict[str, Any]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"expected JSON (line {exc.lineno}: {exc.msg})", file=path,
                        fix="write the plan with `tierwise budget compile`") from None
    check(data, "budget-plan.schema.json", file=path, error=SpecError,
          fix="write the plan with `tierwise budget compile`")
    assert isinstance(data, dict)
    roles = [t["role"] for t in data["tiers"].values()]
    if roles.count("routine") != 1 or roles.count("frontier") != 1:
        raise SpecError("expected exactly one routine and one frontier tier", file=path, key="tiers",
                        fix="recompile the plan; set roles: in the spec if the tiers are ambiguous")
    for phase, body in data["phases"].items():
        for tier in data["tiers"]:
            if tier not in body:
                raise PhaseMissingTierError(f"phase {phase!r} has no quota for tier {tier}", file=path,
                                            key=f"phases.{phase}", fix="recompile the plan from its spec")
    return data


def tier_by_role(plan: dict[str, Any], role: str) -> str:
    for name, body in plan["tiers"].items():
        if body["role"] == role:
            return str(name)
    raise SpecError(f"expected a {role} tier in the plan", key="tiers", fix="recompile the plan")


def parse_split(text: str, plan: dict[str, Any]) -> dict[str, float]:
    """``90/10`` (percent, in the plan's tier order) or ``local-coder=90,frontier-reviewer=10``."""
    tiers = list(plan["tiers"])
    try:
        if "=" in text:
            pairs = [p.split("=", 1) for p in text.split(",")]
            out = {k.strip(): float(v) for k, v in pairs}
        else:
            parts = [float(p) for p in text.split("/")]
            if len(parts) != len(tiers):
                raise ValueError
            out = dict(zip(tiers, parts))
    except ValueError:
        raise UsageError(f"expected a split like 90/10 with one number per tier ({'/'.join(tiers)}), got {text!r}",
                         key="--split", fix="--split 90/10") from None
    for tier in out:
        if tier not in plan["tiers"]:
            raise UnknownTierError(f"expected one of the tiers ({', '.join(tiers)}), got {tier!r}", key="--split",
                                   fix="name the plan's tiers")
    if abs(sum(out.values()) - 100.0) > 1e-9:
        raise UsageError(f"expected the split to add up to 100, got {sum(out.values()):g}", key="--split",
                         fix="--split 90/10")
    return out


def assert_plan(plan: dict[str, Any], split: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Every invariant of a plan, each with ok/expected/actual."""
    budget = int(plan["daily_budget_tokens"])
    checks: list[dict[str, Any]] = []
    totals = {t: int(b["total_tokens"]) for t, b in plan["tiers"].items()}
    checks.append({"check": "tiers add up to daily_budget_tokens", "expected": budget,
                   "actual": sum(totals.values()), "ok": sum(totals.values()) == budget})
    for tier, total in totals.items():
        phase_sum = sum(int(body[tier]) for body in plan["phases"].values())
        checks.append({"check": f"{tier}: phase quotas add up to total_tokens", "expected": total,
                       "actual": phase_sum, "ok": phase_sum == total})
    if split:
        for tier, pct in split.items():
            expected = round(budget * pct / 100.0)
            checks.append({"check": f"{tier}: {pct:g}% of the daily budget", "expected": expected,
                           "actual": totals[tier], "ok": totals[tier] == expected})
    return checks
