"""The runner interface for ``tierwise eval run``: tierwise calls *your* function
once per eval case and tier; your function calls the model (tierwise never
does) and reports what happened.

Your function (``--runner module:function``; the current directory is on the
import path)::

    def run_case(skill: str, case: dict, tier: str, model: str | None) -> dict:
        # case: {"case": id, "must_pass": bool, "segment": str | None, "input": <anything from the cases file>}
        # model: the tier's concrete model id for --platform, from the routing config
        ...
        return {"passed": True, "tokens": {"input": 1800, "output": 350}, "repaired": False}

tierwise adds skill, case, must_pass, tier, segment and run_at, validates the
result like a line of a results file (docs/evidence.md) and records it.

Cases file (JSONL, default ``<skill dir>/evals/cases.jsonl``), one case a line::

    {"case": "trace-imports", "must_pass": true, "segment": "mechanical", "input": {...}}
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Mapping
from typing import Any, Protocol, TypedDict

from tierwise.hot.errors import InputError, UsageError
from tierwise.evidence.jsonl import EvalResult, Problem, result_from_object


class EvalCase(TypedDict):
    case: str
    must_pass: bool
    segment: str | None
    input: Any


class EvalRunner(Protocol):
    def __call__(self, skill: str, case: EvalCase, tier: str, model: str | None) -> Mapping[str, Any]: ...


def load_runner(spec: str) -> EvalRunner:
    module_name, sep, func_name = spec.partition(":")
    if not sep or not module_name or not func_name:
        raise UsageError(f"expected --runner MODULE:FUNCTION, got {spec!r}", key="--runner",
                         fix="e.g. --runner my_evals:run_case (my_evals.py in the current directory)")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import the runner module {module_name!r} ({exc})", key="--runner",
                         fix="run from the directory holding the module, or install it") from exc
    func = getattr(module, func_name, None)
    if not callable(func):
        raise UsageError(f"{module_name!r} has no function {func_name!r}", key="--runner",
                         fix=f"define `def {func_name}(skill, case, tier, model) -> dict` in {module_name}")
    runner: EvalRunner = func
    return runner


def load_cases(text: str, source: str) -> list[EvalCase]:
    cases: list[EvalCase] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("case"), str) or not obj["case"]:
            problems.append(f"line {n}: expected an object with a non-empty string `case`")
            continue
        if not isinstance(obj.get("must_pass"), bool):
            problems.append(f"line {n}: `must_pass` must be true or false")
            continue
        if obj.get("segment") is not None and not isinstance(obj["segment"], str):
            problems.append(f"line {n}: `segment` must be a string")
            continue
        if obj["case"] in seen:
            problems.append(f"line {n}: duplicate case {obj['case']!r} (first on line {seen[obj['case']]})")
            continue
        seen[obj["case"]] = n
        cases.append(EvalCase(case=obj["case"], must_pass=obj["must_pass"], segment=obj.get("segment"),
                              input=obj.get("input")))
    if problems:
        raise InputError("bad eval cases:\n  " + "\n  ".join(problems), file=source,
                         fix='one case a line: {"case": "id", "must_pass": true, "segment": "...", "input": ...}')
    if not cases:
        raise InputError("no eval cases in the file", file=source, fix="add one JSON object per case")
    return cases


def run_evals(
    runner: EvalRunner,
    skill: str,
    cases: list[EvalCase],
    tiers: list[tuple[str, str | None]],
    *,
    run_at: str,
    tier_names: list[str],
    source: str,
) -> tuple[list[EvalResult], list[Problem]]:
    """Call the runner per case and tier; a result that fails validation or a
    runner that raises is a problem for that case and tier, the rest go on."""
    results: list[EvalResult] = []
    problems: list[Problem] = []
    for case in cases:
        for tier, model in tiers:
            where = f"{source} (case {case['case']!r}, tier {tier})"
            try:
                reported = runner(skill, case, tier, model)
            except Exception as exc:  # the user's code: report it, keep going
                problems.append(Problem(where, 0, "", f"the runner raised {type(exc).__name__}: {exc}",
                                        "fix the runner; the other cases were still run"))
                continue
            if not isinstance(reported, Mapping):
                problems.append(Problem(where, 0, "", f"the runner returned {type(reported).__name__}, "
                                        "expected a dict", 'return {"passed": bool, "tokens": {...}}'))
                continue
            obj = {k: v for k, v in reported.items() if k not in ("skill", "case", "must_pass", "tier", "run_at")}
            obj.update(skill=skill, case=case["case"], must_pass=case["must_pass"], tier=tier, run_at=run_at)
            if case["segment"] is not None and "segment" not in obj:
                obj["segment"] = case["segment"]
            result, problem = result_from_object(obj, source=where, line=0, tiers=tier_names, known_skills=None)
            if problem:
                problems.append(problem)
            elif result is not None:
                results.append(result)
    return results, problems
