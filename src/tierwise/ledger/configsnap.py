"""A stat-checked snapshot of the resolved config for the ledger's commands.

Hot module (used by ``tierwise statusline``): standard library only. Resolving
the config imports yaml and jsonschema (~0.2 s); the ledger commands need only
tiers, zones, budgets and windows, so the first command that resolves a
project's config saves it here, keyed by project and client, together with the
size and mtime of every layer file (docs/ARCHITECTURE.md, "Layers"). The
snapshot is used while none of those files changed.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os

from tierwise.hot import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_DIRS = {"claude_code": ".claude", "qwen_code": ".qwen"}


def layer_files(project_dir: str, platform: str) -> list[str]:
    pkg = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "model-routing.yaml")
    sub = _DIRS.get(platform, ".claude")
    return [
        pkg,
        os.path.join(project_dir, "pipeline", "config", "model-routing.yaml"),
        os.path.join(project_dir, sub, "model-routing.yaml"),
        os.path.join(project_dir, sub, "session-config.yaml"),
    ]


def _stamps(files: list[str]) -> list[Any]:
    out: list[Any] = []
    for f in files:
        try:
            st = os.stat(f)
            out.append([f, st.st_size, st.st_mtime_ns])
        except OSError:
            out.append([f, None, None])
    return out


# bump when the kept keys change: an older snapshot is resolved again
SNAPSHOT_FORMAT = 2


def snapshot_path(project_dir: str, platform: str) -> str:
    digest = paths.short_digest(f"{platform}\0{os.path.abspath(project_dir)}")[:16]
    return os.path.join(paths.cache_dir(), "ledger-config", f"{digest}.json")


def load(project_dir: str, platform: str) -> dict[str, Any] | None:
    try:
        from tierwise.hot.fileio import read_bytes

        data = json.loads(read_bytes(snapshot_path(project_dir, platform), limit=64 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("stamps") != _stamps(layer_files(project_dir, platform)):
        return None
    if data.get("format") != SNAPSHOT_FORMAT:
        return None
    cfg = data.get("config")
    return cfg if isinstance(cfg, dict) else None


KEPT_KEYS = ("tiers", "zones", "budgets", "team_budgets", "budget_windows", "priority_reserve", "session",
             "hard_caps", "defaults")

# The packaged defaults resolved when tierwise was built (scripts/gen-seeds), per client: what a
# project without config files resolves to, with the CRC of the YAML they came from. A new state
# dir uses it instead of resolving (yaml + jsonschema, ~0.15 s) while that YAML is unchanged.
PACKAGED_RESOLVED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                                 "model-routing.resolved.json")


def kept(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config.get(k) for k in KEPT_KEYS}


def packaged(project_dir: str, platform: str) -> dict[str, Any] | None:
    """The build-time resolution of the packaged defaults, when the project has no layer of
    its own and the packaged YAML is the one it was made from; else None."""
    files = layer_files(project_dir, platform)
    if not os.path.isdir(project_dir) or any(os.path.exists(f) for f in files[1:]):
        return None
    try:
        from zlib import crc32

        from tierwise.hot.fileio import read_bytes

        data = json.loads(read_bytes(PACKAGED_RESOLVED, limit=16 << 20))
        crc = crc32(read_bytes(files[0], limit=16 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT or data.get("crc") != crc:
        return None
    cfg = (data.get("platforms") or {}).get(platform)
    return cfg if isinstance(cfg, dict) else None


def save(project_dir: str, platform: str, config: dict[str, Any]) -> None:
    from tierwise.hot.fileio import atomic_write

    path = snapshot_path(project_dir, platform)
    keep = kept(config)
    try:
        atomic_write(path, json.dumps({"format": SNAPSHOT_FORMAT, "stamps": _stamps(layer_files(project_dir, platform)),
                                       "config": keep}),
                     fsync=False)  # a snapshot: resolved again when lost
    except OSError:
        pass


def resolve_cached(project_dir: str, platform: str = "claude_code") -> dict[str, Any]:
    """The resolved config, from the snapshot when the layers did not change."""
    cfg = load(project_dir, platform) or packaged(project_dir, platform)
    if cfg is not None:
        return cfg
    from tierwise.config import resolve  # cold: yaml + jsonschema

    cfg = resolve(project_dir, platform)
    save(project_dir, platform, cfg)
    return cfg
