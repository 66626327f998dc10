"""Builders for synthetic evidence whose answers are known."""

from __future__ import annotations

import json
from typing import Any

from tierwise.evidence.jsonl import EvalResult

TIERS: list[dict[str, Any]] = [
    {"name": "haiku", "cost_ratio": 1, "price_per_mtok": {"input": 1.0, "output": 5.0}},
    {"name": "sonnet", "cost_ratio": 5, "price_per_mtok": {"input": 3.0, "output": 15.0}},
    {"name": "opus", "cost_ratio": 25, "price_per_mtok": {"input": 15.0, "output": 75.0}},
]


def result(skill: str, case: str, tier: str, passed: bool, *, must_pass: bool = True, inp: int = 2000,
           out: int = 400, run_at: str = "2026-05-01T00:00:00Z", repaired: bool = False,
           total_only: bool = False) -> EvalResult:
    return EvalResult(skill=skill, case=case, must_pass=must_pass, tier=tier, passed=passed, repaired=repaired,
                      input_tokens=None if total_only else inp, output_tokens=None if total_only else out,
                      total_tokens=inp + out, run_at=run_at, segment=None, line=0)


def line(**kw: Any) -> str:
    obj: dict[str, Any] = {"skill": "mapper", "case": "c1", "must_pass": True, "tier": "haiku", "passed": True,
                           "tokens": {"input": 100, "output": 20}, "run_at": "2026-05-01T00:00:00Z"}
    obj.update(kw)
    return json.dumps({k: v for k, v in obj.items() if v is not ...})
