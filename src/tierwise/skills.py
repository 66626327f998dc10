"""Skills: discovery across a client's skill roots, SKILL.md parsing, the routing
block's placements and its normalized form (docs/skill-frontmatter.md).

Safety rules: a skill name never contains ``/``, ``\\``, ``..`` or NUL; the real
path of every SKILL.md read stays inside the real path of its skill root
(else :class:`UnsafePathError`); symlink loops and unreadable folders are reported,
never crashed on; a SKILL.md over 1 MiB or with bytes that are not UTF-8 is an
:class:`InputError`. Nothing outside the skill roots is read.

Cold module: yaml is imported (via ``tierwise.config``).
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Callable
from typing import Any

from tierwise.hot import fileio
from tierwise.hot.errors import InputError, TierwiseError, UnsafePathError, format_key_path
from tierwise.modelblock import PIN_MARKER, block_prefix, find_block, normalize_block

MAX_SKILL_BYTES = 1024 * 1024
MAX_PLUGIN_DEPTH = 5
MAX_PLUGIN_DIRS = 2000
SKILL_FILE = "SKILL.md"
FORK_MARKER = "tierwise-fork-of"  # clients/claude/forks.MARKER: a forked copy tierwise wrote

_SEGMENT = re.compile(r"[^\W][\w.-]*|_[\w.-]*")


# --------------------------------------------------------------------------- names


def check_name(name: object) -> tuple[str | None, str]:
    """``(plugin, skill)`` for ``NAME`` or ``PLUGIN:NAME``; UnsafePathError otherwise."""
    if not isinstance(name, str) or not name:
        raise UnsafePathError("a skill name must be a non-empty string", key="skill", fix="pass the skill's name")
    parts = name.split(":")
    bad = (
        len(parts) > 2
        or any(not p for p in parts)
        or "\x00" in name
        or "/" in name
        or "\\" in name
        or ".." in name
        or any(not _SEGMENT.fullmatch(p) for p in parts)
    )
    if bad:
        raise UnsafePathError(
            f"{name!r} is not a valid skill name (letters, digits, '_', '.', '-'; optionally PLUGIN:NAME;"
            " no '/', '\\', '..' or NUL)",
            key="skill",
            fix="use the skill's folder name, e.g. page-component-mapper or my-plugin:page-component-mapper",
        )
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# --------------------------------------------------------------------------- reading


def read_skill_text(path: str, root: str | None = None) -> str:
    """The text of a SKILL.md (UTF-8, at most 1 MiB); with ``root``, its real path
    must stay inside the root's real path."""
    if root is not None:
        real = _realpath_strict(path)
        real_root = _realpath_strict(root)
        if not _inside(real, real_root):
            raise UnsafePathError(
                f"the skill file resolves to {real}, outside its skill root {real_root}",
                file=path,
                fix="skills must live inside the skill root; replace the symlink with the skill's folder",
            )
    return fileio.read_text(path, limit=MAX_SKILL_BYTES, error_cls=InputError, what="SKILL.md file",
                            too_large_fix="move reference material into separate files the skill loads on demand")


def _problem(path: str, err: TierwiseError) -> dict[str, Any]:
    """A discovery problem: reported (validate, the cache, hooks), never raised."""
    return {"path": path, "key": err.key, "message": err.message, "fix": err.fix, "exit_code": err.exit_code,
            "scope": "skill"}


def _os_error(exc: OSError, path: str) -> TierwiseError:
    if exc.errno == errno.ELOOP:
        return InputError("symlink loop", file=path, fix="remove or repoint the looping symlink")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return InputError("permission denied", file=path, fix="check the file's permissions")
    return InputError(f"cannot read: {exc.strerror or exc}", file=path, fix="check the path")


def _realpath_strict(path: str) -> str:
    try:
        return os.path.realpath(path, strict=True)
    except OSError as exc:
        raise _os_error(exc, path) from None


def split_frontmatter(text: str) -> tuple[str | None, str]:
    """``(frontmatter_text, body)``; frontmatter is None when the file has none.
    Delimiters as both clients read them: a first line ``---`` and the next ``---`` line."""
    norm = text.replace("\r\n", "\n").replace("\r", "\n")
    if norm.startswith("\ufeff"):
        norm = norm[1:]
    m = re.match(r"\A---[ \t]*\n(.*?)(?:\n|\A)---[ \t]*(?:\n|\Z)(.*)\Z", norm, re.S)
    if not m:
        return None, norm
    return m.group(1), m.group(2)


def parse_skill_text(text: str, path: str) -> dict[str, Any]:
    """``{"frontmatter": dict, "body": str, "node": yaml node, "line_offset": 1}``.
    YAML errors are InputError with the line and column in the file."""
    from tierwise.yamlschema import describe_value, parse_yaml

    fm_text, body = split_frontmatter(text)
    if fm_text is None:
        return {"frontmatter": {}, "body": body, "node": None, "line_offset": 1, "has_frontmatter": False}
    data, node = parse_yaml(fm_text, path, InputError, line_offset=1)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            f"the frontmatter must be a mapping of keys, got {describe_value(data)}",
            file=path,
            key="(frontmatter)",
            fix="write `key: value` lines between the --- delimiters",
        )
    return {"frontmatter": data, "body": body, "node": node, "line_offset": 1, "has_frontmatter": True}


# --------------------------------------------------------------------------- roles


_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def routing_table_skills(body: str) -> list[str]:
    """Skill names in the first column of the markdown table under a heading that
    contains "Routing Table"."""
    lines = body.split("\n")
    names: list[str] = []
    in_section = False
    section_level = 0
    table_rows = 0
    for line in lines:
        h = _HEADING.match(line)
        if h:
            level = len(h.group(1))
            if "routing table" in h.group(2).lower():
                in_section, section_level, table_rows = True, level, 0
                continue
            if in_section and level <= section_level:
                in_section = False
            continue
        if not in_section:
            continue
        stripped = line.strip()
        if not stripped.startswith("|"):
            if table_rows:
                in_section = False  # the first table ended
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        table_rows += 1
        if table_rows == 1 or all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue  # header or separator
        first = _LINK.sub(r"\1", cells[0]).strip().strip("`*_ ").strip()
        if first and re.fullmatch(r"[\w.:-]+", first) and first not in names:
            names.append(first)
    return names


def role_of(frontmatter: dict[str, Any], body: str) -> tuple[str, list[str]]:
    names = routing_table_skills(body)
    listed = frontmatter.get("specialists")
    if isinstance(listed, list):
        for n in listed:
            if isinstance(n, str) and n not in names:
                names.append(n)
    coordinator = bool(names) or isinstance(listed, list)
    return ("coordinator" if coordinator else "specialist"), names


# --------------------------------------------------------------------------- roots


def claude_config_dir() -> str:
    explicit = os.environ.get("CLAUDE_CONFIG_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    return os.path.join(os.path.expanduser("~"), ".claude")


def skill_roots(project_dir: str, platform: str, problems: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The client's skill roots in lookup precedence order:
    ``[{"root", "scope": project|user|plugin, "plugin": name|None}]``.

    Claude Code: user (``$CLAUDE_CONFIG_DIR`` or ``~/.claude``) then project
    ``.claude/skills`` (personal wins over project), then plugin ``skills/`` dirs
    (namespaced ``PLUGIN:NAME``). Qwen Code: project ``.qwen/skills``, user
    ``~/.qwen/skills``, then ``~/.qwen/extensions/*/skills``. Codex CLI: project
    ``.agents/skills``, then ``$CODEX_HOME/skills`` (``~/.codex/skills``).
    """
    from tierwise.hot.tiers import canonical_platform

    plat = canonical_platform(platform)
    project_dir = os.path.abspath(project_dir)
    roots: list[dict[str, Any]] = []
    if plat == "claude_code":
        config = claude_config_dir()
        roots.append({"root": os.path.join(config, "skills"), "scope": "user", "plugin": None})
        roots.append({"root": os.path.join(project_dir, ".claude", "skills"), "scope": "project", "plugin": None})
        found = find_plugins(os.path.join(config, "plugins"), problems)
        # a plugin loaded with --plugin-dir lives outside ~/.claude/plugins; its
        # hooks get CLAUDE_PLUGIN_ROOT, whose manifest names it
        current = os.environ.get("CLAUDE_PLUGIN_ROOT")
        if current and os.path.isabs(current) and "\x00" not in current:
            current = os.path.realpath(current)
            name = _plugin_name(os.path.join(current, ".claude-plugin", "plugin.json"))
            if name and all(os.path.realpath(d) != current for d, _ in found):
                found.append((current, name))
        for plugin_dir, name in found:
            roots.append({"root": os.path.join(plugin_dir, "skills"), "scope": "plugin", "plugin": name})
    elif plat == "qwen_code":
        home_qwen = os.path.join(os.path.expanduser("~"), ".qwen")
        roots.append({"root": os.path.join(project_dir, ".qwen", "skills"), "scope": "project", "plugin": None})
        roots.append({"root": os.path.join(home_qwen, "skills"), "scope": "user", "plugin": None})
        ext = os.path.join(home_qwen, "extensions")
        for entry in _listdir(ext, problems):
            roots.append({"root": os.path.join(ext, entry, "skills"), "scope": "plugin", "plugin": entry})
    elif plat == "codex":
        # Codex CLI: the repository's .agents/skills, then $CODEX_HOME/skills (~/.codex/skills)
        codex_home = os.environ.get("CODEX_HOME") or os.path.join(os.path.expanduser("~"), ".codex")
        roots.append({"root": os.path.join(project_dir, ".agents", "skills"), "scope": "project", "plugin": None})
        roots.append({"root": os.path.join(codex_home, "skills"), "scope": "user", "plugin": None})
    else:
        from tierwise.hot.errors import UsageError

        raise UsageError(f"unknown platform {platform!r}", key="platform", fix="use claude, qwen or codex")
    return roots


def _listdir(path: str, problems: list[dict[str, Any]] | None) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        return []
    except OSError as exc:
        if problems is not None:
            problems.append(_problem(path, _os_error(exc, path)))
        return []


def find_plugins(plugins_dir: str, problems: list[dict[str, Any]] | None = None) -> list[tuple[str, str]]:
    """``[(plugin_dir, name)]`` for dirs under ``plugins_dir`` holding
    ``.claude-plugin/plugin.json`` (bounded: depth 5, 2000 dirs, symlinks not followed)."""
    found: list[tuple[str, str]] = []
    seen = 0
    stack = [(plugins_dir, 0)]
    while stack and seen < MAX_PLUGIN_DIRS:
        path, depth = stack.pop()
        seen += 1
        manifest = os.path.join(path, ".claude-plugin", "plugin.json")
        if os.path.isfile(manifest):
            name = _plugin_name(manifest)
            if name:
                found.append((path, name))
            continue
        if depth >= MAX_PLUGIN_DEPTH:
            continue
        try:
            with os.scandir(path) as it:
                subdirs = [e.path for e in it if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
        except FileNotFoundError:
            continue
        except OSError as exc:
            if problems is not None and os.path.exists(path):
                problems.append(_problem(path, _os_error(exc, path)))
            continue
        for sub in sorted(subdirs, reverse=True):
            stack.append((sub, depth + 1))
    return sorted(found)


def _plugin_name(manifest: str) -> str | None:
    try:
        data = json.loads(fileio.read_bytes(manifest, limit=256 * 1024))  # a FIFO must not hang discovery
    except (OSError, ValueError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    if isinstance(name, str):
        try:
            check_name(name)
        except UnsafePathError:
            return None
        return name
    return None


# --------------------------------------------------------------------------- entries


def load_entry(
    skill_file: str,
    root: dict[str, Any],
    name: str,
    config: dict[str, Any] | None,
) -> dict[str, Any]:
    """A skill index entry (docs/ARCHITECTURE.md). Raises for unreadable files;
    a malformed routing block gives ``block: None`` plus ``block_error``."""
    text = read_skill_text(skill_file, root["root"])
    parsed = parse_skill_text(text, skill_file)
    fm, body = parsed["frontmatter"], parsed["body"]
    tier_names = [t["name"] for t in config["tiers"]] if config else ["haiku", "sonnet", "opus"]
    role, specialists = role_of(fm, body)
    raw, placement = find_block(fm, tier_names)
    block = None
    block_error = None
    if raw is not None:
        default = None
        if config:
            default = config["defaults"]["coordinator" if role == "coordinator" else "specialist"]
        try:
            block = normalize_block(raw, tier_names, default_preferred=default, file=skill_file,
                                    prefix=block_prefix(placement))
        except InputError as exc:
            block_error = exc.render()
    entry = {
        "name": f"{root['plugin']}:{name}" if root["scope"] == "plugin" and root.get("claude_namespaced") else name,
        "path": os.path.abspath(skill_file),
        "root": os.path.abspath(root["root"]),
        "scope": root["scope"],
        "plugin": root.get("plugin"),
        "block": block,
        "placement": placement,
        "role": role,
        "specialists": specialists,
    }
    if fm.get(PIN_MARKER):
        entry["pinned"] = str(fm[PIN_MARKER])  # clients/qwen/pins: tierwise pinned its model: line
    if fm.get(FORK_MARKER):
        entry["fork_copy_of"] = str(fm[FORK_MARKER])  # tierwise's own forked copy: not a skill to route
    declared = fm.get("name")
    if isinstance(declared, str) and declared.strip() and declared.strip() != name:
        entry["declared_name"] = declared.strip()  # Qwen Code names a skill by its frontmatter
    if block_error:
        entry["block_error"] = block_error
    return entry


def discover(
    project_dir: str,
    platform: str,
    config: dict[str, Any] | None = None,
    stamp: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Every skill of a project for a client:
    ``{"skills": {name: entry}, "problems": [{"path", "message"}], "stamps": {path: stamp}}``.
    ``stamps`` holds ``stamp(path)`` of every dir and file that decides whether a
    cache is stale, each taken *before* that path was listed or read."""
    from tierwise.hot.tiers import canonical_platform

    plat = canonical_platform(platform)
    stamps: dict[str, Any] = {}

    def watch(*paths: str) -> None:
        for p in paths:
            stamps[p] = stamp(p) if stamp else None

    problems: list[dict[str, Any]] = []
    if plat == "claude_code":
        plugins = os.path.join(claude_config_dir(), "plugins")
        watch(plugins, os.path.join(plugins, "installed_plugins.json"))
    else:
        watch(os.path.join(os.path.expanduser("~"), ".qwen", "extensions"))
    roots = skill_roots(project_dir, platform, problems)
    skills: dict[str, Any] = {}
    found: list[dict[str, Any]] = []
    for root in roots:
        root = dict(root, claude_namespaced=(plat == "claude_code" and root["scope"] == "plugin"))
        rdir = root["root"]
        watch(rdir)
        try:
            real_root = os.path.realpath(rdir, strict=True)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(_problem(rdir, _os_error(exc, rdir)))
            continue
        for entry_name in _listdir(rdir, problems):
            skill_dir = os.path.join(rdir, entry_name)
            skill_file = os.path.join(skill_dir, SKILL_FILE)
            watch(skill_dir, skill_file)
            try:
                check_name(entry_name)
            except UnsafePathError:
                continue
            try:
                real_dir = os.path.realpath(skill_dir, strict=True)
            except OSError as exc:
                problems.append(_problem(skill_dir, _os_error(exc, skill_dir)))
                continue
            if not os.path.isdir(real_dir):
                continue
            if not _inside(real_dir, real_root):
                problems.append(_problem(skill_dir, UnsafePathError(
                    f"skipped: resolves to {real_dir}, outside the skill root {real_root}",
                    file=skill_dir,
                    fix="skills must live inside the skill root; replace the symlink with the skill's folder",
                )))
                continue
            if not os.path.isfile(skill_file):
                continue
            try:
                entry = load_entry(skill_file, root, entry_name, config)
            except TierwiseError as exc:
                problems.append(_problem(skill_file, exc))
                continue
            except (ValueError, RecursionError, OverflowError, MemoryError) as exc:  # one skill never stops the rest
                problems.append(_problem(skill_file, InputError(
                    f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})", file=skill_file,
                    fix="fix the file; run `tierwise validate` for details")))
                continue
            if entry.get("fork_copy_of"):
                continue
            skills.setdefault(entry["name"], entry)
            found.append(entry)
    # a frontmatter `name:` that differs from the folder also finds the skill
    # (Qwen Code's skill tool uses it); folder names win on a clash
    for entry in found:
        alias = entry.get("declared_name")
        namespaced = plat == "claude_code" and entry["scope"] == "plugin"  # Claude: PLUGIN:folder only
        if alias and not namespaced:
            try:
                check_name(alias)
            except UnsafePathError:
                continue
            skills.setdefault(alias, entry)
    return {"skills": skills, "problems": problems, "stamps": stamps}


def find_skill(
    project_dir: str, platform: str, name: str, config: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The index entry of one skill by name (``NAME`` or ``PLUGIN:NAME``), or None.
    Raises UnsafePathError for a name that could lead outside the roots."""
    from tierwise.hot.tiers import canonical_platform

    plugin, bare = check_name(name)
    plat = canonical_platform(platform)
    for root in skill_roots(project_dir, platform):
        namespaced = plat == "claude_code" and root["scope"] == "plugin"
        if namespaced and plugin != root["plugin"]:
            continue
        if not namespaced and plugin is not None:
            continue
        skill_file = os.path.join(root["root"], bare, SKILL_FILE)
        if not os.path.lexists(os.path.join(root["root"], bare)):
            continue
        if not os.path.exists(skill_file):
            try:
                os.stat(skill_file)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _os_error(exc, skill_file) from None
            continue
        entry = load_entry(skill_file, dict(root, claude_namespaced=namespaced), bare, config)
        return None if entry.get("fork_copy_of") else entry
    # not a folder name: maybe a frontmatter `name:` (bounded by the roots' listings)
    entry = discover(project_dir, platform, config)["skills"].get(name)
    return entry if isinstance(entry, dict) else None
