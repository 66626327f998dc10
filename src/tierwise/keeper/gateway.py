"""The anti-Goodhart validation gateway: the ``checks:`` block of validation.md.

    checks:
      - id: anti_goodhart_budget
        if: {all: [mttr_p95 < "5m", escalation_ratio < 0.08]}
        then: {fail_if: [silent_p0 > 0.02, ...]}
      - id: ecology_warn
        if: {any: [...]}
        then: {require: [red_button_review == true, ...]}

A check applies when its ``if`` holds (``all``: every condition, ``any``: at least one;
no ``if``: always). An applicable check fails when any ``fail_if`` condition holds or
any ``require`` condition does not. Only the metrics the evaluation reads must be in the
metrics file: an ``if`` that does not hold needs no ``then`` metrics, and an ``if`` settled
by its known conditions needs none of its missing ones. Quoted values that read as durations ("5m",
"120s") are compared in seconds; the metric may then be seconds or a duration string.
"""

from __future__ import annotations

import re
from typing import Any

from tierwise.keeper.durations import is_duration_text, parse_duration
from tierwise.keeper.errors import ChecksError, MissingMetricError
from tierwise.keeper.query import OPS

_COND = re.compile(r"^\s*([A-Za-z_]\w*)\s*(==|!=|>=|<=|>|<)\s*(\S.*?)\s*$")
_FENCE = re.compile(r"^```[ \t]*(?:ya?ml)?[ \t]*\n(.*?)^```", re.S | re.M)
_FIX = "see the checks: block in .specify/memory/validation.md"


def load_checks(text: str, path: str | None = None) -> list[dict[str, Any]]:
    """The parsed, validated checks of a validation spec (markdown with a yaml block, or bare yaml)."""
    import yaml

    blocks = [b for b in _FENCE.findall(text) if re.search(r"^checks\s*:", b, re.M)]
    source = blocks[0] if blocks else text
    try:
        from tierwise.yamlschema import strict_safe_load

        data = strict_safe_load(source)
    except yaml.YAMLError as exc:
        raise ChecksError(f"expected a YAML checks: block ({getattr(exc, 'problem', exc)})", file=path,
                          key="checks", fix=_FIX) from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list) or not data["checks"]:
        raise ChecksError("expected a `checks:` list (in a ```yaml block)", file=path, key="checks", fix=_FIX)
    checks = []
    for i, raw in enumerate(data["checks"]):
        where = f"checks[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise ChecksError("expected a mapping with an id", file=path, key=where, fix=_FIX)
        mode, when = "always", []
        cond = raw.get("if")
        if cond is not None:
            if not isinstance(cond, dict) or len(cond) != 1 or next(iter(cond)) not in ("all", "any"):
                raise ChecksError("expected `if:` with exactly one of all: or any:", file=path, key=f"{where}.if",
                                  fix=_FIX)
            mode = next(iter(cond))
            when = [_parse(c, path, f"{where}.if.{mode}[{j}]") for j, c in enumerate(_list(cond[mode], path, f"{where}.if.{mode}"))]
        then = raw.get("then")
        if not isinstance(then, dict) or not then or set(then) - {"fail_if", "require"}:
            raise ChecksError("expected `then:` with fail_if: and/or require:", file=path, key=f"{where}.then",
                              fix=_FIX)
        checks.append({
            "id": raw["id"], "mode": mode, "if": when,
            "fail_if": [_parse(c, path, f"{where}.then.fail_if[{j}]") for j, c in
                        enumerate(_list(then.get("fail_if", []), path, f"{where}.then.fail_if"))],
            "require": [_parse(c, path, f"{where}.then.require[{j}]") for j, c in
                        enumerate(_list(then.get("require", []), path, f"{where}.then.require"))],
        })
    return checks


def _list(value: object, path: str | None, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise ChecksError(f"expected a list of conditions, got {value!r}", file=path, key=key, fix=_FIX)
    return value


def _parse(text: object, path: str | None, key: str) -> dict[str, Any]:
    m = _COND.match(text) if isinstance(text, str) else None
    if not m:
        raise ChecksError(f"expected `metric OP value` (OP one of == != >= <= > <), got {text!r}", file=path,
                          key=key, fix='e.g. - silent_p0 > 0.02')
    raw = m.group(3)
    duration = False
    value: Any
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        inner = raw[1:-1]
        if is_duration_text(inner):
            value, duration = parse_duration(inner, file=path, key=key), True
        else:
            value = inner
    elif raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        try:
            value = float(raw)
        except ValueError:
            raise ChecksError(f"expected a number, true/false or a quoted value, got {raw!r}", file=path, key=key,
                              fix='quote durations: mttr_p95 < "5m"') from None
    return {"metric": m.group(1), "op": m.group(2), "value": value, "raw": raw, "duration": duration,
            "text": text.strip() if isinstance(text, str) else str(text)}


def _holds(cond: dict[str, Any], metrics: dict[str, Any], metrics_file: str | None) -> tuple[bool, Any]:
    actual = metrics[cond["metric"]]
    if cond["duration"]:
        actual = parse_duration(actual, file=metrics_file, key=cond["metric"])
    try:
        return bool(OPS[cond["op"]](actual, cond["value"])), actual
    except TypeError:
        raise MissingMetricError(f"expected {cond['metric']} to be comparable with {cond['raw']}, got {actual!r}",
                                 file=metrics_file, key=cond["metric"], fix="write the metric as a number") from None


def evaluate(checks: list[dict[str, Any]], metrics: dict[str, Any], metrics_file: str | None = None) -> dict[str, Any]:
    """Evaluate every check. Only the metrics the evaluation reads are required: an ``if``
    condition whose metric is missing is unknown, and the ``if`` is still decided when the
    known conditions settle it (``all``: one fails; ``any``: one holds); the ``then`` metrics
    are required only when the check applies."""
    out = []
    missing: dict[str, list[str]] = {}  # metric -> the checks that need it

    def need(metric: str, check_id: str) -> None:
        missing.setdefault(metric, [])
        if check_id not in missing[metric]:
            missing[metric].append(check_id)

    for chk in checks:
        trigger = []
        for c in chk["if"]:
            if c["metric"] not in metrics:
                trigger.append({"condition": c["text"], "metric": c["metric"], "value": None, "holds": None,
                                "missing": True})
                continue
            ok, actual = _holds(c, metrics, metrics_file)
            trigger.append({"condition": c["text"], "metric": c["metric"], "value": actual, "holds": ok})
        known = [t["holds"] for t in trigger if t["holds"] is not None]
        unknown = len(known) < len(trigger)
        applies: bool | None
        if chk["mode"] == "all":
            applies = False if False in known else None if unknown else True
        elif chk["mode"] == "any":
            applies = True if True in known else None if unknown else False
        else:
            applies = True
        if applies is None:  # the if cannot be decided without its missing metrics
            for t in trigger:
                if t["holds"] is None:
                    need(t["metric"], chk["id"])
            continue
        violations = []
        if applies:
            for kind in ("fail_if", "require"):
                for c in chk[kind]:
                    if c["metric"] not in metrics:
                        need(c["metric"], chk["id"])
                        continue
                    ok, actual = _holds(c, metrics, metrics_file)
                    if ok == (kind == "fail_if"):
                        violations.append({"kind": kind, "condition": c["text"], "metric": c["metric"],
                                           "value": actual, "op": c["op"], "threshold": c["value"]})
        status = "not_applicable" if not applies else "fail" if violations else "pass"
        out.append({"id": chk["id"], "status": status, "applies": applies, "trigger": trigger,
                    "violations": violations})
    if missing:
        names = sorted(missing)
        which = "; ".join(f"{m} (needed by {', '.join(missing[m])})" for m in names)
        raise MissingMetricError(f"expected the metrics {which}; the file does not have them",
                                 file=metrics_file, key=names[0],
                                 fix="write the metrics with `tierwise budget drill --metrics-out M.json` or add them")
    failed = [c["id"] for c in out if c["status"] == "fail"]
    return {"ok": not failed, "failed": failed, "checks": out}
