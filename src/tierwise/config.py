"""Routing config: load the YAML layers, validate each against its JSON Schema,
merge them and resolve the result (docs/config.md, docs/ARCHITECTURE.md).

Layers, lowest first::

    packaged default        tierwise/data/model-routing.yaml           (schema model-routing)
    pipeline                <project>/pipeline/config/model-routing.yaml (schema model-routing)
    project                 <project>/.claude|.qwen/model-routing.yaml    (schema project-routing)
    session                 <project>/.claude|.qwen/session-config.yaml   (schema session-config)

Mappings merge key by key; scalars and lists replace. Every problem is a
:class:`~tierwise.hot.errors.ConfigError` naming the file, the key path, what was
expected and the fix.

Cold module: yaml and jsonschema are imported here.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from functools import lru_cache
from typing import Any

import yaml

from tierwise.hot import fileio, tiers as tiermod
from tierwise.hot.errors import ConfigError, TierwiseError, UsageError, format_key_path

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")
PACKAGED_DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "model-routing.yaml")
SCHEMA_BASE = "https://tierwise.dev/schemas/"
MAX_CONFIG_BYTES = 1024 * 1024

PLATFORM_DIRS = {"claude_code": ".claude", "qwen_code": ".qwen"}
BUDGET_WINDOWS = ("session", "daily", "weekly", "monthly")
BUDGET_KEYS = ("tokens", "opus_tokens", "opus_messages", "total_spend")
CONSERVATION_MODES = ("off", "auto", "aggressive")

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


def parse_yaml(
    text: str, file: str, error_cls: type[TierwiseError] = ConfigError, line_offset: int = 0
) -> tuple[Any, Any]:
    """``(data, node)``: the safe-loaded document and its node tree (for line numbers).

    ``line_offset`` is added to reported line numbers (frontmatter starts on line 2).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1 + line_offset}, column {mark.column + 1}" if mark else "unknown position"
        problem = exc.problem or exc.context or "invalid YAML"
        raise error_cls(
            f"YAML syntax error at {where}: {problem}",
            file=file,
            fix="fix the YAML at that position (check indentation, colons and quotes)",
        ) from None
    except yaml.YAMLError as exc:
        raise error_cls(f"YAML error: {exc}", file=file, fix="fix the YAML") from None
    finally:
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
    return error_cls(message, file=file, key=format_key_path(path) or "(top level)", fix=fix)


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


# --------------------------------------------------------------------------- layers


def layer_paths(project_dir: str, platform: str) -> list[tuple[str, str, str]]:
    """``[(layer, path, schema)]`` lowest first, whether or not the files exist."""
    plat = _platform(platform)
    client = os.path.join(project_dir, PLATFORM_DIRS[plat])
    return [
        ("package", PACKAGED_DEFAULT, "model-routing"),
        ("pipeline", os.path.join(project_dir, "pipeline", "config", "model-routing.yaml"), "model-routing"),
        ("project", os.path.join(client, "model-routing.yaml"), "project-routing"),
        ("session", os.path.join(client, "session-config.yaml"), "session-config"),
    ]


def _platform(platform: str) -> str:
    plat = tiermod.canonical_platform(platform)
    if plat not in PLATFORM_DIRS:
        raise UsageError(
            f"unknown platform {platform!r}",
            key="platform",
            fix="use claude (claude_code) or qwen (qwen_code)",
        )
    return plat


class Layer:
    def __init__(self, name: str, path: str, data: dict[str, Any], node: Any) -> None:
        self.name = name
        self.path = path
        self.data = data
        self.node = node

    def has(self, path: Path) -> bool:
        cur: Any = self.data
        for part in path:
            if isinstance(part, str) and isinstance(cur, dict) and part in cur:
                cur = cur[part]
            elif isinstance(part, int) and isinstance(cur, list) and part < len(cur):
                cur = cur[part]
            else:
                return False
        return True


def load_layer(name: str, path: str, schema: str) -> Layer:
    """Read, parse and schema-check one layer file (ConfigError on any problem)."""
    text = read_text_file(path, ConfigError)
    data, node = parse_yaml(text, path, ConfigError)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping of keys at the top level, got {describe_value(data)}",
            file=path,
            key="(top level)",
            fix="see docs/config.md for the keys this file takes",
        )
    validate_against(data, schema, path, node)
    return Layer(name, path, _normalize_layer(data), node)


def _normalize_layer(data: dict[str, Any]) -> dict[str, Any]:
    """YAML 1.1 reads `off` as false: give conservation_mode its word back."""
    data = copy.deepcopy(data)
    for holder in (data.get("defaults"), data.get("model_routing")):
        if isinstance(holder, dict) and holder.get("conservation_mode") is False:
            holder["conservation_mode"] = "off"
    return data


def merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key; anything else in ``over`` replaces ``base``."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def load_layers(project_dir: str, platform: str) -> list[Layer]:
    if not os.path.isdir(project_dir):
        raise ConfigError(
            "project directory not found",
            file=project_dir,
            fix="run from the project, or pass --project DIR",
        )
    layers = []
    for name, path, schema in layer_paths(project_dir, platform):
        if name != "package" and not os.path.exists(path):
            continue
        if name == "package" and not os.path.exists(path):
            raise ConfigError(
                "the packaged default config is missing (broken installation)",
                file=path,
                fix="reinstall tierwise (pip install --force-reinstall tierwise)",
            )
        layers.append(load_layer(name, path, schema))
    return layers


def _origin(layers: list[Layer], path: Path) -> Layer:
    for layer in reversed(layers):
        if layer.has(path):
            return layer
    return layers[0]


def _err(layers: list[Layer], path: Path, message: str, fix: str) -> ConfigError:
    layer = _origin(layers, path)
    line = node_line(layer.node, path)
    if line is not None and layer.has(path):
        message = f"line {line}: {message}"
    return ConfigError(message, file=layer.path, key=format_key_path(path), fix=fix)


def resolve(project_dir: str, platform: str) -> dict[str, Any]:
    """The resolved config (shape in docs/ARCHITECTURE.md) for a project and client."""
    plat = _platform(platform)
    project_dir = os.path.abspath(project_dir)
    layers = load_layers(project_dir, plat)
    return resolve_layers(layers)


def resolve_layers(layers: list[Layer]) -> dict[str, Any]:
    routing_layers = [la for la in layers if la.name in ("package", "pipeline", "project")]
    merged: dict[str, Any] = {}
    for layer in routing_layers:
        body = {k: v for k, v in layer.data.items() if k != "overrides"}
        merged = merge(merged, body)

    # tiers, ordered by cost_ratio (declaration order breaks ties)
    raw_tiers: dict[str, Any] = merged.get("tiers") or {}
    if not raw_tiers:
        raise _err(layers, ["tiers"], "expected at least one tier", "define tiers under `tiers:` (see docs/config.md)")
    tier_list = []
    for index, (name, spec) in enumerate(raw_tiers.items()):
        if not isinstance(spec, dict) or "cost_ratio" not in spec:
            raise _err(
                layers,
                ["tiers", name],
                f"tier {name!r} has no cost_ratio",
                f"add `cost_ratio: <number>` under tiers.{name}",
            )
        tier_list.append(
            (
                float(spec["cost_ratio"]),
                index,
                {
                    "name": name,
                    "models": {p: spec.get(p) for p in tiermod.PLATFORMS},
                    "cost_ratio": spec["cost_ratio"],
                    "description": spec.get("description", ""),
                    "price_per_mtok": copy.deepcopy(spec.get("price_per_mtok")),
                },
            )
        )
    tier_list.sort(key=lambda t: (t[0], t[1]))
    names = [t[2]["name"] for t in tier_list]

    def check_tier(path: Path, value: Any, layers_for: list[Layer]) -> None:
        if value is not None and value not in names:
            guess = nearest(str(value), names)
            raise _err(
                layers_for,
                path,
                f"{value!r} is not a defined tier (defined: {', '.join(names)})",
                (f"did you mean {guess!r}? " if guess else "")
                + f"use one of {', '.join(names)}, or define {value!r} under `tiers:`",
            )

    defaults = dict(merged.get("defaults") or {})
    for key in ("coordinator", "specialist", "reference_loading"):
        if key not in defaults:
            raise _err(layers, ["defaults"], f"missing defaults.{key}", f"add `{key}: <tier>` under defaults")
        check_tier(["defaults", key], defaults[key], layers)
    defaults.setdefault("conservation_mode", "auto")

    zones_raw = merged.get("budget_zones") or {}
    zones = {"yellow": zones_raw.get("yellow_threshold", 0.70), "red": zones_raw.get("red_threshold", 0.90)}
    zone_paths: dict[str, Path] = {
        "yellow": ["budget_zones", "yellow_threshold"],
        "red": ["budget_zones", "red_threshold"],
    }

    # overrides come from the project layer only
    overrides: dict[str, Any] = {}
    for layer in layers:
        if layer.name == "project" and isinstance(layer.data.get("overrides"), dict):
            overrides = copy.deepcopy(layer.data["overrides"])
    for skill, ov in overrides.items():
        for key in ("preferred", "minimum"):
            if key in ov:
                check_tier(["overrides", skill, key], ov[key], layers)
        for i, t in enumerate(ov.get("acceptable") or []):
            check_tier(["overrides", skill, "acceptable", i], t, layers)
        for i, cond in enumerate(ov.get("conditions") or []):
            for key in ("downgrade_to", "hold_at"):
                if key in cond:
                    check_tier(["overrides", skill, "conditions", i, key], cond[key], layers)
        est = ov.get("estimated_tokens")
        if isinstance(est, dict):  # the normalized form the decision reads: [lo, hi]
            from tierwise.skills import parse_range

            for key, value in list(est.items()):
                rng = parse_range(value)
                if rng is None:
                    raise _err(layers, ["overrides", skill, "estimated_tokens", key],
                               f"expected N or N-M with N <= M, got {value!r}", "write e.g. `2000-5000` or `3`")
                est[key] = rng
        if "preferred" in ov and "minimum" in ov and names.index(ov["minimum"]) > names.index(ov["preferred"]):
            raise _err(
                layers,
                ["overrides", skill, "minimum"],
                f"minimum {ov['minimum']!r} is above preferred {ov['preferred']!r} in tier order ({' < '.join(names)})",
                "lower the minimum or raise preferred",
            )

    session: dict[str, Any] = {"force_model": None, "conservation_mode": None, "skill_overrides": {}, "ignore_minimum": False}
    session_layers = [la for la in layers if la.name == "session"]
    if session_layers:
        mr = session_layers[-1].data.get("model_routing") or {}
        session["force_model"] = mr.get("force_model")
        check_tier(["model_routing", "force_model"], session["force_model"], session_layers)
        session["conservation_mode"] = mr.get("conservation_mode")
        session["skill_overrides"] = dict(mr.get("skill_overrides") or {})
        for skill, t in session["skill_overrides"].items():
            check_tier(["model_routing", "skill_overrides", skill], t, session_layers)
        session["ignore_minimum"] = bool(mr.get("ignore_minimum", False))
        if "yellow_zone_threshold" in mr:
            zones["yellow"] = mr["yellow_zone_threshold"]
            zone_paths["yellow"] = ["model_routing", "yellow_zone_threshold"]
        if "red_zone_threshold" in mr:
            zones["red"] = mr["red_zone_threshold"]
            zone_paths["red"] = ["model_routing", "red_zone_threshold"]
    if zones["yellow"] >= zones["red"]:
        culprit = zone_paths["yellow"] if zone_paths["yellow"][0] == "model_routing" else zone_paths["red"]
        raise _err(
            layers,
            culprit,
            f"the yellow threshold ({zones['yellow']}) must be below the red threshold ({zones['red']})",
            "lower the yellow threshold or raise the red one",
        )

    budgets = {}
    for window in BUDGET_WINDOWS:
        raw = merged.get(f"{window}_budget") or {}
        budgets[window] = {k: raw.get(k) for k in BUDGET_KEYS}

    bw = merged.get("budget_windows") or {}
    budget_windows = {
        "timezone": bw.get("timezone", "UTC"),
        "week_start": bw.get("week_start", "monday"),
        "daily": bw.get("daily", "calendar"),
        "weekly": bw.get("weekly", "rolling"),
        "monthly": bw.get("monthly", "calendar"),
    }
    _check_timezone(layers, budget_windows["timezone"])

    pr = merged.get("priority_reserve") or {}
    hc = merged.get("hard_caps") or {}
    return {
        "tiers": [t[2] for t in tier_list],
        "zones": zones,
        "defaults": defaults,
        "budgets": budgets,
        "budget_windows": budget_windows,
        "priority_reserve": {"share": pr.get("share", 0.0), "reasoning_demand": list(pr.get("reasoning_demand", ["high"]))},
        "hard_caps": {"safety_margin": hc.get("safety_margin", 1.3)},
        "overrides": overrides,
        "session": session,
        "sources": [{"layer": la.name, "path": la.path} for la in layers],
    }


def _check_timezone(layers: list[Layer], name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _err(
            layers,
            ["budget_windows", "timezone"],
            f"{name!r} is not a known IANA time zone",
            "use a name such as UTC, Europe/Berlin or America/New_York",
        ) from None
