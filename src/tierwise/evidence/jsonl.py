"""The evidence JSONL formats: eval results and outcomes (docs/evidence.md).

Parsing is pure: text in, records and problems out. A problem names the file,
the line, the key path, what was expected and the fix; the commands turn the
problems of a file into one :class:`~tierwise.hot.errors.InputError` and record
nothing from that file, so a bad file never leaves half of itself behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any, TypedDict

from tierwise.hot.errors import InputError, format_key_path

OUTCOMES = ("success", "repaired", "escalated", "failed")


class EvalResult(TypedDict):
    skill: str
    case: str
    must_pass: bool
    tier: str
    passed: bool
    repaired: bool
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int
    run_at: str
    segment: str | None
    line: int  # 1-based line in its source (0 when not from a file)


class OutcomeRecord(TypedDict):
    run_id: str
    outcome: str
    tier_needed: str | None
    note: str | None
    segment: str | None
    at: str
    line: int


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    key: str
    message: str
    fix: str

    def render(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where} at key {self.key or '(line)'}: {self.message} (fix: {self.fix})"


@dataclass
class Parsed:
    results: list[EvalResult] = field(default_factory=list)
    outcomes: list[OutcomeRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, first line)


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("tierwise.schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def problems_error(problems: list[Problem], *, what: str) -> InputError:
    """One error for every problem of a file: the first in the breadcrumb, the rest listed."""
    first = problems[0]
    message = first.message
    if len(problems) > 1:
        rest = "\n".join("  " + p.render() for p in problems[1:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        message += f"\n{len(problems) - 1} more problem(s):\n{rest}{more}"
    message += f"\nnothing from this file was recorded ({what})"
    return InputError(
        message,
        file=f"{first.source}:{first.line}" if first.line else first.source,
        key=first.key or None,
        fix=first.fix,
    )


def _schema_problem(schema_name: str, obj: Any, source: str, line: int) -> Problem | None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    validator = Draft202012Validator(load_schema(schema_name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    err = best_match(validator.iter_errors(obj))
    if err is None:
        return None
    path: list[str | int] = list(err.absolute_path)
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [k for k in err.validator_value if k not in err.instance]
        path.append(missing[0] if missing else "?")
        return Problem(source, line, format_key_path(path), f"missing required key {path[-1]!r}",
                       f"add {path[-1]!r}; the format is in docs/evidence.md ({schema_name})")
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set((err.schema.get("properties") or {}).keys())
        extra = sorted(k for k in err.instance if k not in allowed)
        key = format_key_path([*path, extra[0]]) if extra else format_key_path(path)
        return Problem(source, line, key, f"unknown key {extra[0] if extra else '?'!r}",
                       f"remove it; allowed keys here: {', '.join(sorted(allowed))}")
    if err.validator == "oneOf" and path == ["tokens"]:
        return Problem(source, line, "tokens", f"expected {{\"input\": N, \"output\": N}} or {{\"total\": N}} "
                       f"(non-negative integers), got {json.dumps(err.instance)}",
                       "give the tokens the run spent as input and output, or as a total")
    return Problem(source, line, format_key_path(path) or "(line)", err.message,
                   f"see the format in docs/evidence.md ({schema_name})")


def _lines(text: str, source: str, problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(Problem(source, n, "", f"not valid JSON ({exc.msg} at column {exc.colno})",
                                    "write one JSON object per line"))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(source, n, "", f"expected a JSON object, got {type(obj).__name__}",
                                    "write one JSON object per line"))
            continue
        out.append((n, obj))
    return out


def normalize_time(value: str) -> str:
    """ISO 8601 -> UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (naive times are taken as UTC)."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if dt.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return dt.strftime(fmt)


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_problem(value: Any, source: str, line: int, key: str) -> tuple[str | None, Problem | None]:
    try:
        return normalize_time(str(value)), None
    except ValueError:
        return None, Problem(source, line, key, f"expected an ISO 8601 date-time, got {value!r}",
                             "write e.g. 2026-05-01T12:00:00Z")


def result_from_object(
    obj: dict[str, Any],
    *,
    source: str,
    line: int,
    tiers: list[str],
    known_skills: set[str] | None,
) -> tuple[EvalResult | None, Problem | None]:
    """Validate one eval result object (schema, then tier and skill names)."""
    problem = _schema_problem("eval-result.schema.json", obj, source, line)
    if problem:
        return None, problem
    if obj["tier"] not in tiers:
        return None, Problem(source, line, "tier", f"unknown tier {obj['tier']!r}; defined tiers: {', '.join(tiers)}",
                             f"use a tier defined under `tiers:` in the routing config, or define {obj['tier']!r} there")
    if known_skills is not None and obj["skill"] not in known_skills:
        return None, Problem(source, line, "skill", f"unknown skill {obj['skill']!r}: no SKILL.md with that name in "
                             "the skill roots", "fix the name, or run the command from the project that has the skill")
    run_at, problem = _time_problem(obj["run_at"], source, line, "run_at")
    if problem or run_at is None:
        return None, problem
    tokens = obj["tokens"]
    inp, outp = tokens.get("input"), tokens.get("output")
    total = tokens["total"] if "total" in tokens else int(inp) + int(outp)
    return EvalResult(
        skill=obj["skill"], case=obj["case"], must_pass=obj["must_pass"], tier=obj["tier"], passed=obj["passed"],
        repaired=bool(obj.get("repaired", False)), input_tokens=inp, output_tokens=outp, total_tokens=int(total),
        run_at=run_at, segment=obj.get("segment"), line=line,
    ), None


def result_key(r: EvalResult) -> tuple[str, str, str, str]:
    return (r["skill"], r["case"], r["tier"], r["run_at"])


def recorded_fields(r: EvalResult) -> tuple[tuple[str, Any], ...]:
    """What a result records besides its key, each under its key path in a results line."""
    return (("must_pass", r["must_pass"]), ("passed", r["passed"]), ("repaired", r["repaired"]),
            ("tokens.input", r["input_tokens"]), ("tokens.output", r["output_tokens"]),
            ("tokens.total", r["total_tokens"]), ("segment", r["segment"]))


CONFLICT_FIX = "give the rerun its own run_at, or correct the line"


def _shown(value: Any) -> str:
    return "not given" if value is None else json.dumps(value)


def result_differences(mine: EvalResult, other: EvalResult) -> list[tuple[str, Any, Any]]:
    """(key path, value in ``mine``, value in ``other``) for every recorded field that differs."""
    return [(path, a, b) for (path, a), (_, b) in zip(recorded_fields(mine), recorded_fields(other)) if a != b]


def recorded_values(r: EvalResult) -> str:
    """A result's recorded fields as one JSON object, the shape of a results line."""
    tokens = {k: v for k, v in (("input", r["input_tokens"]), ("output", r["output_tokens"])) if v is not None}
    tokens["total"] = r["total_tokens"]
    return json.dumps({"must_pass": r["must_pass"], "passed": r["passed"], "repaired": r["repaired"],
                       "tokens": tokens, "segment": r["segment"]})


def conflict_problem(mine: EvalResult, other: EvalResult, *, source: str, found: str, there: str,
                     extra: str = "") -> Problem:
    """``mine`` has the skill/case/tier/run_at of ``other`` but different content.

    ``found`` says where ``other`` is ("also on r.jsonl:1"), ``there`` the same in
    short, after a value ("on r.jsonl:1").
    """
    diffs = result_differences(mine, other)
    detail = "; ".join(f"{path} is {_shown(a)} here, {_shown(b)} {there}" for path, a, b in diffs)
    return Problem(source, mine["line"], diffs[0][0] if diffs else "",
                   f"conflicting result: {'/'.join(result_key(mine))} (skill/case/tier/run_at) is {found} with "
                   f"different content: {detail}{extra}", CONFLICT_FIX)


def parse_results(text: str, *, source: str, tiers: list[str], known_skills: set[str] | None) -> Parsed:
    """Every line of an eval results file.

    A line repeating an earlier line's skill/case/tier/run_at *and* every recorded
    field is a duplicate: listed, kept once. The same four with different content
    is a conflict: a problem (which of the two is right is the user's call).
    """
    parsed = Parsed()
    seen: dict[tuple[str, str, str, str], EvalResult] = {}
    for n, obj in _lines(text, source, parsed.problems):
        result, problem = result_from_object(obj, source=source, line=n, tiers=tiers, known_skills=known_skills)
        if problem:
            parsed.problems.append(problem)
            continue
        assert result is not None
        key = result_key(result)
        first = seen.get(key)
        if first is not None:
            if result_differences(result, first):
                where = f"{source}:{first['line']}"
                parsed.problems.append(conflict_problem(result, first, source=source, found=f"also on {where}",
                                                        there=f"on {where}"))
            else:
                parsed.duplicates.append((n, first["line"]))
            continue
        seen[key] = result
        parsed.results.append(result)
    # The same case flagged must-pass on one line and not on another is ambiguous.
    flags: dict[tuple[str, str], tuple[bool, int]] = {}
    for r in parsed.results:
        prev = flags.setdefault((r["skill"], r["case"]), (r["must_pass"], r["line"]))
        if prev[0] != r["must_pass"]:
            parsed.problems.append(Problem(source, r["line"], "must_pass",
                                           f"case {r['case']!r} of {r['skill']!r} is must_pass={prev[0]} on line "
                                           f"{prev[1]} but must_pass={r['must_pass']} here",
                                           "a case is must-pass or not on every tier: make the lines agree"))
    return parsed


def outcome_from_object(
    obj: dict[str, Any], *, source: str, line: int, tiers: list[str]
) -> tuple[OutcomeRecord | None, Problem | None]:
    problem = _schema_problem("outcome.schema.json", obj, source, line)
    if problem:
        if problem.key == "outcome":
            problem = Problem(source, line, "outcome", f"expected one of {', '.join(OUTCOMES)}, got "
                              f"{json.dumps(obj.get('outcome'))}", "use success, repaired, escalated or failed")
        return None, problem
    needed = obj.get("tier_needed")
    if needed is not None and needed not in tiers:
        return None, Problem(source, line, "tier_needed", f"unknown tier {needed!r}; defined tiers: {', '.join(tiers)}",
                             "use a tier defined under `tiers:` in the routing config")
    at = now_utc()
    if obj.get("at"):
        at_norm, problem = _time_problem(obj["at"], source, line, "at")
        if problem or at_norm is None:
            return None, problem
        at = at_norm
    return OutcomeRecord(run_id=obj["run_id"], outcome=obj["outcome"], tier_needed=needed, note=obj.get("note"),
                         segment=obj.get("segment"), at=at, line=line), None


def parse_outcomes(text: str, *, source: str, tiers: list[str]) -> Parsed:
    parsed = Parsed()
    for n, obj in _lines(text, source, parsed.problems):
        rec, problem = outcome_from_object(obj, source=source, line=n, tiers=tiers)
        if problem:
            parsed.problems.append(problem)
        elif rec is not None:
            parsed.outcomes.append(rec)
    return parsed
