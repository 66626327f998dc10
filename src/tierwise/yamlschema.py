"""YAML and JSON Schema with clear errors: the shipped schemas, UTF-8 text files
read with a size limit, YAML parsed with line numbers (``yaml.safe_load``
semantics, made strict: :class:`StrictSafeLoader`), and schema errors turned into one :class:`TierwiseError` naming the
file, the key path, what was expected and the fix. Used by ``config``,
``skills``, ``frontmatter_check`` and the keeper.

Cold module: yaml and jsonschema are imported here.
"""

from __future__ import annotations

import difflib
import json
import os
from functools import lru_cache
from typing import Any

import yaml

from tierwise.hot import fileio
from tierwise.hot.errors import ConfigError, TierwiseError, UsageError, format_key_path

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")
SCHEMA_BASE = "https://tierwise.dev/schemas/"
MAX_CONFIG_BYTES = 1024 * 1024

Path = list[str | int]


# --------------------------------------------------------------------------- schemas


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """A shipped schema by file stem (``model-routing``, ``model-block``, ...)."""
    with open(os.path.join(SCHEMA_DIR, f"{name}.schema.json"), encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@lru_cache(maxsize=None)
def _validator(name: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    resources = []
    for fname in sorted(os.listdir(SCHEMA_DIR)):
        if fname.endswith(".schema.json"):
            schema = load_schema(fname[: -len(".schema.json")])
            if isinstance(schema, dict) and "$id" in schema and "$schema" in schema:
                resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Any = Registry().with_resources(resources)
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry)


# --------------------------------------------------------------------------- YAML


def read_text_file(path: str, error_cls: type[TierwiseError], limit: int = MAX_CONFIG_BYTES) -> str:
    """Read a UTF-8 text file with a size limit; every failure is one ``error_cls``."""
    return fileio.read_text(path, limit=limit, error_cls=error_cls,
                            too_large_fix="this cannot be a routing file; check the path or shrink the file")


MAX_YAML_DEPTH = 64
MAX_NUMBER_CHARS = 100  # a number written with more characters is no value tierwise could take


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that StrictSafeLoader refuses, with the fix to give."""

    def __init__(self, problem: str, mark: Any, fix: str) -> None:
        super().__init__(None, None, problem, mark)
        self.fix = fix


class LongNumber(str):
    """A number written with more than MAX_NUMBER_CHARS characters, kept as its
    text: converting it could fail (Python refuses ints over 4300 digits) or
    overflow later, and no key takes such a value, so the schema (or the
    routing block check) refuses it at its own key, leaving the rest of the
    file in force."""


class StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (what ``yaml.safe_load`` uses) that refuses, as YAML
    errors with a line and column, what it would otherwise let through
    silently or crash on: a key given twice in one mapping (last-wins would
    hide one) and nesting deeper than MAX_YAML_DEPTH (a RecursionError). A
    number too long to be any value is kept as :class:`LongNumber` (text)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused(f"nesting deeper than {MAX_YAML_DEPTH} levels",
                               self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                               "flatten the structure; no tierwise file nests this deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue  # unhashable: the constructor reports it
                if first is not key_node:
                    raise _Refused(
                        f"duplicate key {key!r} (first given on line {first.start_mark.line + 1}); "
                        "YAML would silently keep only the last one",
                        key_node.start_mark,
                        f"keep one {key!r} and delete the other",
                    )
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: Any) -> Any:
        if len(str(node.value)) > MAX_NUMBER_CHARS:
            return LongNumber(node.value)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: Any) -> Any:
        if len(str(node.value)) > MAX_NUMBER_CHARS:
            return LongNumber(node.value)
        return super().construct_yaml_float(node)


StrictSafeLoader.add_constructor("tag:yaml.org,2002:int", StrictSafeLoader.construct_yaml_int)
StrictSafeLoader.add_constructor("tag:yaml.org,2002:float", StrictSafeLoader.construct_yaml_float)


class YAMLUnreadable(yaml.YAMLError):
    """Input the YAML library itself fails on with a non-YAML error (recursion, overflow)."""


def strict_safe_load(text: str) -> Any:
    """``yaml.safe_load`` with StrictSafeLoader's refusals: every problem is a ``yaml.YAMLError``."""
    loader = None
    try:
        loader = StrictSafeLoader(text)
        return loader.get_single_data()
    except (ValueError, RecursionError, OverflowError, MemoryError) as exc:
        raise YAMLUnreadable(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    finally:
        if loader is not None:
            loader.dispose()


def parse_yaml(
    text: str, file: str, error_cls: type[TierwiseError] = ConfigError, line_offset: int = 0
) -> tuple[Any, Any]:
    """``(data, node)``: the safe-loaded document and its node tree (for line numbers).

    ``line_offset`` is added to reported line numbers (frontmatter starts on line 2).
    Every problem, whatever the input (NUL and other unprintable characters,
    duplicate keys, deep nesting, endless numbers), is one ``error_cls``.
    """
    loader = None
    try:
        loader = StrictSafeLoader(text)  # checks the characters: a NUL byte fails here
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1 + line_offset}, column {mark.column + 1}" if mark else "unknown position"
        problem = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, _Refused):
            raise error_cls(f"{where}: {problem}", file=file, fix=exc.fix) from None
        raise error_cls(
            f"YAML syntax error at {where}: {problem}",
            file=file,
            fix="fix the YAML at that position (check indentation, colons and quotes)",
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 + line_offset
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise error_cls(
            f"character U+{char:04X} on line {line} is not allowed in YAML",
            file=file,
            fix="remove it (a NUL byte or another control character, often from a bad copy or a binary file)",
        ) from None
    except yaml.YAMLError as exc:
        raise error_cls(f"YAML error: {exc}", file=file, fix="fix the YAML") from None
    except (ValueError, RecursionError, OverflowError, MemoryError) as exc:
        raise error_cls(f"YAML that cannot be read ({type(exc).__name__}: {str(exc)[:200]})", file=file,
                        fix="fix the value; tierwise's files hold short values and little nesting") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, node


def node_line(node: Any, path: Path, *, key: bool = False, line_offset: int = 0) -> int | None:
    """1-based line of the value at ``path`` in a composed YAML node (of the key if ``key``)."""
    if node is None:
        return None
    current = node
    key_node = None
    for part in path:
        if isinstance(current, yaml.MappingNode) and isinstance(part, str):
            for k, v in current.value:
                if isinstance(k, yaml.ScalarNode) and k.value == part:
                    key_node, current = k, v
                    break
            else:
                break
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            key_node, current = None, current.value[part]
        else:
            break
    target = key_node if key and key_node is not None else current
    return int(target.start_mark.line) + 1 + line_offset


# --------------------------------------------------------------------------- schema errors

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def describe_value(value: Any) -> str:
    if isinstance(value, LongNumber):
        return f"a number written with {len(value)} characters"
    if value is None:
        return "null (empty)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    text = repr(value)
    return f"the string {text if len(text) <= 60 else text[:57] + '...'}"


def _expected(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "a valid value"
    if "$ref" in schema:
        return "a valid value"
    if "enum" in schema:
        values = ["off" if v is False else ("null" if v is None else str(v)) for v in schema["enum"]]
        return "one of " + ", ".join(dict.fromkeys(values))
    for combo in ("oneOf", "anyOf"):
        if combo in schema:
            return " or ".join(dict.fromkeys(_expected(s) for s in schema[combo]))
    t = schema.get("type")
    if isinstance(t, (list, str)):
        word = " or ".join(_TYPE_WORDS.get(str(x), str(x)) for x in ([t] if isinstance(t, str) else t))
        if t == "string" and "pattern" in schema:
            return str(schema.get("description") or f"{word} matching {schema['pattern']}")
        bounds = []
        if "minimum" in schema:
            bounds.append(f">= {schema['minimum']}")
        if "exclusiveMinimum" in schema:
            bounds.append(f"> {schema['exclusiveMinimum']}")
        if "maximum" in schema:
            bounds.append(f"<= {schema['maximum']}")
        return word + (" " + " and ".join(bounds) if bounds else "")
    return "a valid value"


def nearest(word: str, known: list[str] | tuple[str, ...]) -> str | None:
    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return match[0] if match else None


def schema_error_to_tierwise(
    errors: list[Any],
    file: str,
    node: Any,
    error_cls: type[TierwiseError] = ConfigError,
    prefix: Path | None = None,
    line_offset: int = 0,
) -> TierwiseError:
    """One breadcrumb error for the most relevant of a list of jsonschema errors."""
    from jsonschema.exceptions import best_match, relevance

    def key(e: Any) -> Any:
        # prefer the deepest error; among equals, jsonschema's own relevance
        return (-len(e.absolute_path), relevance(e))

    err = best_match(sorted(errors, key=key)[:1] + errors)
    while err.context:  # descend into oneOf/anyOf to the deepest branch error
        deepest = max(err.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) <= len(err.absolute_path):
            break
        err = deepest
    # a branch of a described oneOf/anyOf at the same spot: the description says it best
    described = None
    parent = err.parent
    if parent is not None and list(parent.absolute_path) == list(err.absolute_path):
        if isinstance(parent.schema, dict) and parent.schema.get("description"):
            described = str(parent.schema["description"])
    path: Path = list(prefix or []) + list(err.absolute_path)
    local_path: Path = list(err.absolute_path)
    instance = err.instance
    validator = err.validator
    schema = err.schema
    fix: str
    key_line = False
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted((schema.get("properties") or {}).keys())
        unknown = sorted(k for k in instance if k not in known)
        bad = str(unknown[0]) if unknown else "?"
        path.append(bad)
        local_path.append(bad)
        key_line = True
        guess = nearest(bad, known)
        message = f"unknown key {bad!r}"
        fix = (f"did you mean {guess!r}? " if guess else "") + (
            f"known keys here: {', '.join(known)}" if known else "remove it"
        )
    elif validator == "required":
        missing = [k for k in err.validator_value if isinstance(instance, dict) and k not in instance]
        message = f"missing required key {missing[0]!r}" if missing else err.message
        fix = f"add `{missing[0] if missing else '?'}:` here"
    elif validator == "propertyNames":
        message = f"invalid name {err.instance!r}: expected letters, digits, '_', '.' or '-'"
        fix = "rename it"
    elif validator == "uniqueItems":
        message = "expected a list without repeated entries"
        fix = "remove the duplicates"
    else:
        expected = described or _expected(schema)
        message = f"expected {expected}, got {describe_value(instance)}"
        fix = f"set it to {expected}"
    line = node_line(node, local_path, key=key_line, line_offset=line_offset)
    if line is not None:
        message = f"line {line}: {message}"
    error = error_cls(message, file=file, key=format_key_path(path) or "(top level)", fix=fix)
    error.key_path = local_path
    return error


def validate_against(
    data: Any,
    schema_name: str,
    file: str,
    node: Any = None,
    error_cls: type[TierwiseError] = ConfigError,
    prefix: Path | None = None,
    line_offset: int = 0,
) -> None:
    errors = list(_validator(schema_name).iter_errors(data))
    if errors:
        raise schema_error_to_tierwise(errors, file, node, error_cls, prefix, line_offset)


def schema_errors(data: Any, schema_name: str) -> list[Any]:
    return list(_validator(schema_name).iter_errors(data))
