"""Durations as the specs write them: ``30s``, ``10m``, ``1h30m``, ``120`` (seconds)."""

from __future__ import annotations

import re

from tierwise.keeper.errors import DurationError

_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:h|m|s))+$")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


def is_duration_text(text: str) -> bool:
    return bool(_WHOLE.match(text.strip().lower()))


def parse_duration(value: object, *, file: str | None = None, key: str | None = None) -> float:
    """Seconds in ``value``; a bare number is seconds. Raises DurationError."""
    if isinstance(value, bool):
        raise _bad(value, file, key)
    if isinstance(value, (int, float)):
        if value < 0:
            raise _bad(value, file, key)
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return float(text)
        if _WHOLE.match(text):
            return sum(float(n) * _UNIT[u] for n, u in _PART.findall(text))
    raise _bad(value, file, key)


def format_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s % 3600 == 0 and s:
        return f"{s // 3600}h"
    if s % 60 == 0 and s:
        return f"{s // 60}m"
    return f"{s}s"


def _bad(value: object, file: str | None, key: str | None) -> DurationError:
    return DurationError(
        f"expected a duration like 30s, 10m or 1h30m (or a number of seconds), got {value!r}",
        file=file,
        key=key,
        fix='write the time with a unit, e.g. sla_p95: "45s"',
    )
