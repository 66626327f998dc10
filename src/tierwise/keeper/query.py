"""``inspect`` queries: ``&&``-joined comparisons over a result's fields.

    failover_to_frontier==5 && degraded_queue==15 && token_health_min>=0.5

A field is a top-level key or a dotted path (``spend.by_tier.local-coder``); a value
is a number, ``true``/``false``/``null`` or a quoted string. A malformed query or an
unknown field is a usage error (exit 2) that names the nearest field.
"""

from __future__ import annotations

import difflib
import json
import operator
import re
from collections.abc import Callable
from typing import Any

from tierwise.hot.errors import UsageError

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
_COND = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(==|!=|>=|<=|>|<)\s*(\S.*?)\s*$")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_FIX = 'write comparisons joined by &&, e.g. --query "failover_to_frontier==5 && token_health_min>=0.5"'


def parse_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if _NUMBER.fullmatch(text):
        return json.loads(text)
    raise UsageError(f"expected a number, true/false/null or a quoted string, got {text!r}", key="--query", fix=_FIX)


def parse_query(query: str) -> list[tuple[str, str, Any]]:
    if not query.strip():
        raise UsageError("expected at least one comparison, got an empty query", key="--query", fix=_FIX)
    out = []
    for part in query.split("&&"):
        m = _COND.match(part)
        if not m or any(op in m.group(3) for op in ("==", "!=", ">=", "<=")):
            raise UsageError(f"expected FIELD OP VALUE with OP one of == != >= <= > <, got {part.strip()!r}",
                             key="--query", fix=_FIX)
        out.append((m.group(1), m.group(2), parse_value(m.group(3))))
    return out


def field_paths(data: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Every scalar field a query can name (dicts up to 3 levels; lists are not indexed)."""
    paths: list[str] = []
    if isinstance(data, dict) and depth < 4:
        for key, value in data.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                paths += field_paths(value, path + ".", depth + 1)
            elif not isinstance(value, list):
                paths.append(path)
    return paths


def lookup(data: dict[str, Any], field: str) -> Any:
    if field in data and not isinstance(data[field], (dict, list)):
        return data[field]
    node: Any = data
    for part in field.split("."):
        if not isinstance(node, dict) or part not in node:
            raise _unknown(data, field)
        node = node[part]
    if isinstance(node, (dict, list)):
        raise _unknown(data, field)
    return node


def _unknown(data: dict[str, Any], field: str) -> UsageError:
    known = field_paths(data)
    near = difflib.get_close_matches(field, known, n=1, cutoff=0.5)
    hint = f"did you mean {near[0]!r}?" if near else "fields: " + ", ".join(k for k in known if "." not in k)
    return UsageError(f"unknown field {field!r} in the result", key="--query", fix=hint)


def evaluate(data: dict[str, Any], query: str) -> list[dict[str, Any]]:
    """Each condition with the actual value and whether it holds. Raises UsageError (exit 2)."""
    results = []
    for field, op, expected in parse_query(query):
        actual = lookup(data, field)
        try:
            ok = bool(OPS[op](actual, expected))
        except TypeError:
            raise UsageError(f"cannot compare {field} = {actual!r} with {op} {expected!r}", key="--query",
                             fix="compare numbers with numbers and strings with == or !=") from None
        results.append({"field": field, "op": op, "expected": expected, "actual": actual, "ok": ok,
                        "condition": f"{field}{op}{json.dumps(expected)}"})
    return results
