"""The keeper's JSON Schemas (src/tierwise/schemas/budget-*.schema.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from tierwise.hot.errors import TierwiseError, format_key_path


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("tierwise").joinpath("schemas", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def check(data: object, schema_name: str, *, file: str | None, error: type[TierwiseError], fix: str) -> None:
    """Raise ``error`` for the first (deepest-path) schema violation."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.path) != [], [str(p) for p in e.path]))
    if errors:
        first = errors[0]
        key = format_key_path(list(first.absolute_path)) or "(top level)"
        raise error(f"expected {first.message}", file=file, key=key, fix=fix)
