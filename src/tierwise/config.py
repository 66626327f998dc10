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

Cold module: yaml and jsonschema (through ``tierwise.yamlschema``, which also
holds the schema and YAML helpers this module used to carry).
"""

from __future__ import annotations

import copy
import os
from typing import Any

from tierwise.hot import tiers as tiermod
from tierwise.hot.errors import ConfigError, UsageError, format_key_path
from tierwise.yamlschema import describe_value, nearest, node_line, parse_yaml, read_text_file, validate_against

PACKAGED_DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "model-routing.yaml")

PLATFORM_DIRS = {"claude_code": ".claude", "qwen_code": ".qwen", "codex": ".codex"}
BUDGET_WINDOWS = ("session", "daily", "weekly", "monthly")
BUDGET_KEYS = ("tokens", "opus_tokens", "opus_messages", "total_spend")
CONSERVATION_MODES = ("off", "auto", "aggressive")

Path = list[str | int]


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
            fix="use claude (claude_code), qwen (qwen_code) or codex",
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


def _read_layer(path: str) -> tuple[dict[str, Any], Any]:
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
    return data, node


def _check_values(data: dict[str, Any], schema: str, path: str, node: Any) -> None:
    """The schema, and what a schema cannot say: every number is finite (YAML reads
    `.nan` and `.inf`, and NaN passes every minimum and maximum)."""
    bad = _non_finite(data, [])
    if bad is not None:
        line = node_line(node, bad)
        error = ConfigError(
            (f"line {line}: " if line is not None else "") + "expected a finite number, got "
            + describe_value(_value_at(data, bad)),
            file=path, key=format_key_path(bad), fix="write a number (see docs/config.md for the ranges)",
        )
        error.key_path = bad
        raise error
    validate_against(data, schema, path, node)


def _non_finite(value: Any, path: Path) -> Path | None:
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return path
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = [(k, v) for k, v in value.items() if isinstance(k, (str, int))]
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        found = _non_finite(item, [*path, key])
        if found is not None:
            return found
    return None


def _value_at(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def load_layer(name: str, path: str, schema: str) -> Layer:
    """Read, parse and schema-check one layer file (ConfigError on any problem)."""
    data, node = _read_layer(path)
    _check_values(data, schema, path, node)
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
    error = ConfigError(message, file=layer.path, key=format_key_path(path), fix=fix)
    error.key_path = list(path) if layer.has(path) else None
    return error


def resolve(project_dir: str, platform: str) -> dict[str, Any]:
    """The resolved config (shape in docs/ARCHITECTURE.md) for a project and client."""
    plat = _platform(platform)
    project_dir = os.path.abspath(project_dir)
    layers = load_layers(project_dir, plat)
    return resolve_layers(layers)


MAX_ISOLATED = 50


def resolve_isolated(project_dir: str, platform: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The resolved config with every broken value left out, and the problems.

    What hooks use: one bad value must not switch routing off. A value the
    schema or the resolution refuses is dropped from its layer (the layers
    below it then decide, else the default), a file that cannot be read or
    parsed is dropped whole; each is a problem ``{"path", "key", "message",
    "fix", "exit_code", "scope": "config"}`` whose message says what was
    ignored and what applies instead. The packaged default is never dropped:
    when it is broken the installation is, and that raises.
    """
    plat = _platform(platform)
    project_dir = os.path.abspath(project_dir)
    if not os.path.isdir(project_dir):
        raise ConfigError("project directory not found", file=project_dir,
                          fix="run from the project, or pass --project DIR")
    problems: list[tuple[ConfigError, str]] = []  # (error, layer name)
    layers: list[Layer] = []
    for name, path, schema in layer_paths(project_dir, plat):
        if name == "package":
            layers.append(load_layer(name, path, schema))
        elif os.path.exists(path):
            layer = _load_layer_isolated(name, path, schema, problems)
            if layer is not None:
                layers.append(layer)
    for _ in range(MAX_ISOLATED):
        try:
            resolved = resolve_layers(layers)
        except ConfigError as exc:
            layer = next((la for la in layers if la.path == exc.file and la.name != "package"), None)
            if layer is None:
                raise
            if exc.key_path and _drop(layer.data, exc.key_path):
                problems.append((exc, layer.name))
            else:
                layers.remove(layer)
                exc.key_path = None
                problems.append((exc, layer.name))
            continue
        return resolved, [_problem_entry(exc, name, layers) for exc, name in problems]
    raise ConfigError("too many problems in the routing config", file=project_dir,
                      fix="run `tierwise validate` and fix the files it names")


def _load_layer_isolated(name: str, path: str, schema: str, problems: list[tuple[ConfigError, str]]) -> Layer | None:
    try:
        data, node = _read_layer(path)
    except ConfigError as exc:
        exc.key_path = None
        problems.append((exc, name))
        return None
    data = copy.deepcopy(data)
    for _ in range(MAX_ISOLATED):
        try:
            _check_values(data, schema, path, node)
        except ConfigError as exc:
            if not exc.key_path or not _drop(data, exc.key_path):
                exc.key_path = None
                problems.append((exc, name))
                return None
            problems.append((exc, name))
            continue
        return Layer(name, path, _normalize_layer(data), node)
    return None


def _drop(data: Any, path: Path) -> bool:
    """Remove the value at ``path`` from a layer's data; False when there is none."""
    if not path:
        return False
    try:
        holder = _value_at(data, path[:-1])
    except (KeyError, IndexError, TypeError):
        return False
    last = path[-1]
    if isinstance(holder, dict) and last in holder:
        del holder[last]
        return True
    if isinstance(holder, list) and isinstance(last, int) and 0 <= last < len(holder):
        del holder[last]
        return True
    return False


def _problem_entry(exc: ConfigError, layer_name: str, layers: list[Layer]) -> dict[str, Any]:
    if exc.key_path:
        same_family = [la for la in layers if (la.name == "session") == (layer_name == "session")]
        source = next((la for la in reversed(same_family) if la.has(exc.key_path)), None)
        if source is not None and _value_at(source.data, exc.key_path) is not None:
            shown = repr(_value_at(source.data, exc.key_path))
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            instead = f"{shown} from {source.path} applies instead"
        else:
            instead = "it is not set"
            if str(exc.key_path[0]).endswith("_budget"):
                instead += ": that budget is not enforced"
        consequence = f"this value is ignored and {instead}"
    else:
        consequence = "the whole file is ignored: the other layers apply"
    return {
        "path": exc.file,
        "key": exc.key,
        "message": f"{exc.message} ({consequence})",
        "fix": exc.fix,
        "exit_code": exc.exit_code,
        "scope": "config",
    }


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
            from tierwise.modelblock import parse_range

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
        def rank(path: Path) -> int:  # the most specific layer that sets it (the user's latest word)
            return max((i for i, la in enumerate(layers) if la.has(path)), default=-1)

        culprit = zone_paths["yellow"] if rank(zone_paths["yellow"]) > rank(zone_paths["red"]) else zone_paths["red"]
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

    team_raw = merged.get("team_budget") or {}
    team_budgets = {w: {k: (team_raw.get(w) or {}).get(k) for k in BUDGET_KEYS} for w in ("daily", "weekly", "monthly")}

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
    otel = (merged.get("export") or {}).get("otel") or {}
    enforcement = merged.get("enforcement") or {}
    return {
        "tiers": [t[2] for t in tier_list],
        "zones": zones,
        "defaults": defaults,
        "budgets": budgets,
        "team_budgets": team_budgets,
        "budget_windows": budget_windows,
        "priority_reserve": {"share": pr.get("share", 0.0), "reasoning_demand": list(pr.get("reasoning_demand", ["high"]))},
        "hard_caps": {"safety_margin": hc.get("safety_margin", 1.3)},
        "export": {"otel": {"auto": bool(otel.get("auto", False)), "endpoint": otel.get("endpoint"),
                            "compression": otel.get("compression"), "timeout": otel.get("timeout")}},
        "enforcement": {"inline_skills": enforcement.get("inline_skills") or "advisory"},
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
