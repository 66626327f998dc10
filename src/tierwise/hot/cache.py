"""Compiled cache of the resolved config and the skill index, for hook processes.

``load(project_dir, platform)`` returns::

    {"version": 2, "project_dir": str, "platform": "claude_code|qwen_code",
     "config": <resolved config>, "skills": {name: <index entry>},
     "problems": [{"path", "message", "fix", "key"?, "scope": "config|skill"}],
     "stamps": {path: [mtime_ns, size] | null}}

It is stored as JSON under ``paths.cache_dir()``, one file per (project,
platform). Every config layer, skill root, skill dir and SKILL.md that went into
it is stamped with (mtime_ns, size), or null when absent, *before* it was read;
a cache whose stamps no longer match is rebuilt by importing the cold modules
(``tierwise.config``, ``tierwise.skills``). Writes are atomic (tmp + replace), so
concurrent hook processes never read a torn file. A broken config value or
file, or a broken skill, is left out of the cache and listed in ``problems``
(every other skill keeps routing); only a broken packaged default raises.

Hot module (imported by hooks): standard library only.
"""

from __future__ import annotations

import os

from tierwise.hot import hotjson as json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CACHE_VERSION = 2  # 2: the resolved config has team_budgets
MAX_CACHE_BYTES = 256 * 1024 * 1024


def stamp(path: str) -> list[int] | None:
    """``[mtime_ns, size]`` of a path (following symlinks), None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_mtime_ns, st.st_size]


def cache_path(project_dir: str, platform: str) -> str:
    """One file per (project, platform) and per set of user-level skill roots
    (``$CLAUDE_CONFIG_DIR``, ``HOME``, ``$CLAUDE_PLUGIN_ROOT``), so switching
    any of them never reads a cache built for another."""
    from tierwise.hot.paths import cache_dir, short_digest

    home = os.path.expanduser("~")
    claude_config = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(home, ".claude")
    plugin_root = os.environ.get("CLAUDE_PLUGIN_ROOT") or ""  # `--plugin-dir`: its skills/ is a skill root
    parts = [os.path.abspath(project_dir), platform, home, claude_config, plugin_root]
    if platform == "codex":  # Codex CLI: $CODEX_HOME/skills is a skill root
        parts.append(os.environ.get("CODEX_HOME") or "")
    raw = "\0".join(parts)
    return os.path.join(cache_dir(), f"routing-{short_digest(raw)}.json")


def _canonical(platform: str) -> str:
    from tierwise.hot.tiers import canonical_platform

    plat = canonical_platform(platform)
    if plat not in ("claude_code", "qwen_code", "codex"):
        from tierwise.hot.errors import UsageError

        raise UsageError(f"unknown platform {platform!r}", key="platform", fix="use claude, qwen or codex")
    return plat


def is_fresh(data: dict[str, Any]) -> bool:
    stamps = data.get("stamps")
    if not isinstance(stamps, dict) or not stamps:
        return False
    for path, old in stamps.items():
        if stamp(path) != old:
            return False
    return True


def read(project_dir: str, platform: str) -> dict[str, Any] | None:
    """The stored cache if present, readable and fresh; else None."""
    plat = _canonical(platform)
    project_dir = os.path.abspath(project_dir)
    from tierwise.hot.paths import read_regular

    try:
        data = json.loads(read_regular(cache_path(project_dir, plat), MAX_CACHE_BYTES))  # never a FIFO
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("version") != CACHE_VERSION
        or data.get("project_dir") != project_dir
        or data.get("platform") != plat
        or not is_fresh(data)
    ):
        return None
    return data


# The modules whose code shapes the cache (relative to the tierwise package).
CACHE_CODE = ("config.py", "skills.py", "modelblock.py", "yamlschema.py", "hot/tiers.py", "hot/cache.py")


def load(project_dir: str, platform: str) -> dict[str, Any]:
    """The cached config + skill index, rebuilt when stale or missing."""
    data = read(project_dir, platform)
    if data is not None:
        return data
    return rebuild(project_dir, platform)


def rebuild(project_dir: str, platform: str) -> dict[str, Any]:
    from tierwise.hot import cold  # YAML and JSON Schema: the cold modules, only here

    plat = _canonical(platform)
    project_dir = os.path.abspath(project_dir)
    stamps: dict[str, Any] = {}
    # the code that builds the cache: a changed tierwise never trusts an old cache
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for module in CACHE_CODE:
        path = os.path.join(package, *module.split("/"))
        stamps[path] = stamp(path)
    for path in cold.config_layer_paths(project_dir, plat):
        stamps[path] = stamp(path)
    # a broken value or file is left out (and reported), never the whole config
    resolved, config_problems = cold.resolve_config_isolated(project_dir, plat)
    found = cold.discover_skills(project_dir, plat, resolved, stamp)
    stamps.update(found["stamps"])
    data = {
        "version": CACHE_VERSION,
        "project_dir": project_dir,
        "platform": plat,
        "config": resolved,
        "skills": found["skills"],
        "problems": config_problems + found["problems"],
        "stamps": stamps,
    }
    _write_atomic(cache_path(project_dir, plat), data)
    return data


def config_problems(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The problems of the routing config layers (values or files left out)."""
    return [p for p in data.get("problems") or [] if isinstance(p, dict) and p.get("scope") == "config"]


def raise_config_problem(data: dict[str, Any]) -> None:
    """For commands that must not run on a partly ignored config: the first problem as a ConfigError."""
    for problem in config_problems(data):
        from tierwise.hot.errors import ConfigError

        raise ConfigError(str(problem.get("message")), file=problem.get("path"), key=problem.get("key"),
                          fix=problem.get("fix"))


def _write_atomic(path: str, data: dict[str, Any]) -> None:
    from tierwise.hot.fileio import atomic_write

    try:
        atomic_write(path, json.dumps(data, separators=(",", ":")), fsync=False)  # rebuilt when lost
    except OSError:
        pass  # a read-only or full state dir only costs the next process a rebuild


def find_skill(cache: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The index entry for ``NAME`` or ``PLUGIN:NAME`` (None when unknown).

    ``PLUGIN:NAME`` also finds a Qwen extension skill ``NAME`` of extension
    ``PLUGIN``; a bare ``NAME`` also finds a plugin skill when exactly one plugin
    has a skill of that name.
    """
    skills = cache.get("skills") or {}
    if not isinstance(name, str) or not name:
        return None
    entry = skills.get(name)
    if entry is not None:
        return entry  # type: ignore[no-any-return]
    if ":" in name:
        plugin, _, bare = name.partition(":")
        for e in skills.values():
            if e.get("plugin") == plugin and e.get("name") == bare:
                return e  # type: ignore[no-any-return]
        return None
    matches = [e for key, e in skills.items() if key.endswith(":" + name)]
    return matches[0] if len(matches) == 1 else None
