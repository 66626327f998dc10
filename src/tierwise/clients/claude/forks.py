"""Claude Code: run an inline skill on the tier decided for each call.

Claude Code 2.1.197 ignores an inline skill's ``model:``; a skill with
``context: fork`` and ``model: <alias>`` runs as a forked subagent on that
model; and a PreToolUse hook on ``Skill`` that answers ``updatedInput:
{"skill": OTHER}`` loads OTHER instead (PLATFORMS.md). So for every skill the
project runs with ``enforce: fork``, tierwise keeps one forked copy per tier,
``.claude/skills/<skill>--on-<tier>/SKILL.md``: the skill's own frontmatter
and body, with

    name: <skill>--on-<tier>
    model: <the tier's Claude Code alias>
    context: fork
    disable-model-invocation: true      # not in the model's skill listing: costs no context
    user-invocable: false               # not in the / menu either
    tierwise-fork-of: <skill>           # the marker: only such folders are ever rewritten or removed
    tierwise-tier: <tier>
    tierwise-source: <mtime_ns>:<size>  # of the skill's SKILL.md when the copy was made

and the skill folder's other entries linked in, so relative references in the
body resolve. The PreToolUse hook decides the tier of each call and points
the call at that tier's copy.

Claude Code reads its skills when it starts, before any hook runs: a copy
written during a session is unknown to it (the call fails with "Unknown
command"). So the SessionStart hook notes which current copies are on disk
(what Claude Code loaded) before it refreshes them for the next session, and
the PreToolUse hook only redirects to a copy noted for the session.

Copies are written by ``tierwise install``, refreshed by every SessionStart
and when the agent writes a SKILL.md, and removed by ``tierwise uninstall``.
A folder of that name without the marker is the user's: left alone.

Hot module: standard library only (SessionStart and PreToolUse use it).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context

SEPARATOR = "--on-"
MARKER = "tierwise-fork-of"
TIER_KEY = "tierwise-tier"
SOURCE_KEY = "tierwise-source"
MAX_BYTES = 1024 * 1024
# keys of the skill's own frontmatter the copy sets itself (or drops: routing is tierwise's)
_REPLACED = frozenset({"name", "model", "context", "disable-model-invocation", "user-invocable", "routing"})
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def skills_dir(project: str) -> str:
    return os.path.join(project, ".claude", "skills")


def copy_name(skill: str, tier: str) -> str | None:
    """``<skill>--on-<tier>``; None for a name that cannot be a project skill
    folder (a plugin's ``PLUGIN:NAME``, anything with a separator)."""
    if not skill or not tier or not (_NAME_CHARS.issuperset(skill) and _NAME_CHARS.issuperset(tier)):
        return None
    if ".." in skill or skill.startswith(".") or SEPARATOR in skill:
        return None
    return f"{skill}{SEPARATOR}{tier}"


def source_stamp(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_mtime_ns}:{st.st_size}"


# -- frontmatter, line by line (the copy keeps the skill's own lines as they are) --


def split(text: str) -> tuple[str | None, str]:
    """``(frontmatter lines, body)`` of a SKILL.md, newlines normalized to ``\\n``."""
    norm = text.replace("\r\n", "\n").replace("\r", "\n")
    if norm.startswith("\ufeff"):
        norm = norm[1:]
    lines = norm.split("\n")
    if not lines or lines[0].rstrip(" \t") != "---":
        return None, norm
    for i in range(1, len(lines)):
        if lines[i].rstrip(" \t") == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    return None, norm


def _key_of(line: str) -> str | None:
    """The key of a top-level ``key: value`` line (None for a continuation)."""
    if not line or line[0] in " \t#-":
        return None
    colon = line.find(":")
    if colon <= 0:
        return None
    return line[:colon].strip().strip("'\"")


def top_level(front: str) -> list[tuple[str | None, list[str]]]:
    """The frontmatter as ``[(key, its lines)]``: a key's value lines (nested
    mappings, lists, block scalars) stay with it."""
    blocks: list[tuple[str | None, list[str]]] = []
    for line in front.split("\n"):
        key = _key_of(line)
        if key is not None or not blocks:
            blocks.append((key, [line]))
        else:
            blocks[-1][1].append(line)
    return blocks


def markers(text: str) -> dict[str, str]:
    """tierwise's keys in a SKILL.md's frontmatter (``{}`` when it carries none)."""
    front, _ = split(text)
    out: dict[str, str] = {}
    for key, lines in top_level(front or ""):
        if key in (MARKER, TIER_KEY, SOURCE_KEY):
            out[key] = lines[0].split(":", 1)[1].strip()
    return out


def render(original: str, skill: str, tier: str, model: str, stamp: str) -> str:
    name = copy_name(skill, tier)
    assert name is not None
    front, body = split(original)
    kept: list[str] = []
    for key, lines in top_level(front or ""):
        if key in _REPLACED or (key or "").startswith("tierwise-"):
            continue
        kept.extend(lines)
    while kept and not kept[-1].strip():
        kept.pop()
    head = [f"name: {name}", *kept, f"model: {model}", "context: fork", "disable-model-invocation: true",
            "user-invocable: false", f"{MARKER}: {skill}", f"{TIER_KEY}: {tier}", f"{SOURCE_KEY}: {stamp}"]
    return "---\n" + "\n".join(head) + "\n---\n" + body


def read_copy(path: str) -> dict[str, str] | None:
    """``{"of", "tier", "source"}`` of a copy tierwise wrote; None when ``path``
    is missing, a symlink, too large or not carrying the marker."""
    from tierwise.hot.fileio import read_bytes

    try:
        if os.path.islink(path) or os.path.islink(os.path.dirname(path)):
            return None
        text = read_bytes(path, limit=MAX_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = markers(text)
    if not found.get(MARKER):
        return None
    return {"of": found[MARKER], "tier": found.get(TIER_KEY, ""), "source": found.get(SOURCE_KEY, "")}


def ours(project: str) -> dict[str, dict[str, str]]:
    """Every copy tierwise wrote in the project: folder name -> :func:`read_copy`."""
    folder = skills_dir(project)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}
    out = {}
    for name in names:
        if SEPARATOR not in name:
            continue
        info = read_copy(os.path.join(folder, name, "SKILL.md"))
        if info is not None:
            out[name] = info
    return out


def loaded(project: str, skills: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The copies a Claude Code session starting now has loaded: tierwise's, and
    current (made from the skill's SKILL.md as it is). ``skills``: the skill
    index (name -> entry)."""
    out = {}
    for name, info in ours(project).items():
        entry = skills.get(info["of"])
        if not isinstance(entry, dict) or copy_name(info["of"], info["tier"]) != name:
            continue
        if info["source"] and info["source"] == source_stamp(str(entry.get("path") or "")):
            out[name] = {"of": info["of"], "tier": info["tier"]}
    return out


# -- writing (install, SessionStart, a written SKILL.md) ----------------------------


def _model(config: dict[str, Any], tier: str) -> str | None:
    from tierwise.clients.claude.aliases import alias_for
    from tierwise.hot import tiers

    model = tiers.model_for(config, tier, "claude_code") if tiers.is_tier(config, tier) else None
    return alias_for(tier, model) or model


def wanted(compiled: dict[str, Any]) -> tuple[dict[str, tuple[dict[str, Any], str, str]], list[dict[str, str]]]:
    """The copies the project's config asks for: ``{folder: (skill entry, tier,
    model)}``, and the skills that cannot have them (with why)."""
    from tierwise.hot.routing.enforcement import inline_mode

    config = compiled["config"]
    out: dict[str, tuple[dict[str, Any], str, str]] = {}
    skipped: list[dict[str, str]] = []
    seen: set[str] = set()
    for key, entry in sorted((compiled.get("skills") or {}).items()):
        if not isinstance(entry, dict) or entry.get("name") != key or key in seen:
            continue  # an alias (frontmatter name) of an entry listed under its folder name
        seen.add(key)
        if inline_mode(entry, config)[0] != "fork":
            continue
        if entry.get("scope") == "plugin":
            skipped.append({"skill": key, "why": "a plugin's skill: tierwise copies only project and user skills"})
            continue
        for tier in [t["name"] for t in config["tiers"]]:
            folder = copy_name(key, tier)
            model = _model(config, tier)
            if folder is None:
                skipped.append({"skill": key, "why": "its name cannot name a copy folder"})
                break
            if not model:
                skipped.append({"skill": key, "why": f"tier {tier} has no claude_code model",
                                "fix": f"set tiers.{tier}.claude_code in model-routing.yaml"})
                continue
            out[folder] = (entry, tier, model)
    return out, skipped


def _link_siblings(source_dir: str, copy_dir: str) -> None:
    """Link the skill folder's other entries (references, scripts) into the copy."""
    try:
        names = set(os.listdir(source_dir)) - {"SKILL.md"}
    except OSError:
        names = set()
    try:
        present = set(os.listdir(copy_dir)) - {"SKILL.md"}
    except OSError:
        present = set()
    for name in sorted(present):
        path = os.path.join(copy_dir, name)
        target = os.path.join(source_dir, name)
        if os.path.islink(path) and (name not in names or os.readlink(path) != target):
            os.unlink(path)
    for name in sorted(names):
        path = os.path.join(copy_dir, name)
        if not os.path.lexists(path):
            try:
                os.symlink(os.path.join(source_dir, name), path)
            except OSError:
                pass  # a file system without symlinks: the body's relative references miss, nothing else


def sync(project: str, compiled: dict[str, Any], only: str | None = None) -> dict[str, Any]:
    """Write the copies the config asks for, remove tierwise's copies it no longer
    asks for; ``only``: just that skill's copies. Returns ``{"dir", "written",
    "unchanged", "removed", "kept", "skipped"}`` (folder paths; ``kept``: a
    folder of a copy's name that is the user's own, left alone)."""
    from tierwise.hot.fileio import atomic_write, read_bytes

    folder = skills_dir(project)
    want, skipped = wanted(compiled)
    report: dict[str, Any] = {"dir": folder, "written": [], "unchanged": [], "removed": [], "kept": [],
                              "skipped": skipped}
    existing = ours(project)
    for name, (entry, tier, model) in sorted(want.items()):
        if only is not None and entry["name"] != only:
            continue
        target_dir = os.path.join(folder, name)
        path = os.path.join(target_dir, "SKILL.md")
        if name not in existing and os.path.lexists(target_dir):
            report["kept"].append(target_dir)
            continue
        source = str(entry["path"])
        stamp = source_stamp(source)
        try:
            original = read_bytes(source, limit=MAX_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # unreadable: validate reports it; no copy of what cannot be read
        text = render(original, entry["name"], tier, model, stamp or "")
        try:
            current = read_bytes(path, limit=MAX_BYTES).decode("utf-8") if name in existing else None
        except (OSError, UnicodeDecodeError):
            current = None
        if current == text:
            report["unchanged"].append(target_dir)
        else:
            atomic_write(path, text, fsync=False)
            report["written"].append(target_dir)
        _link_siblings(os.path.dirname(source), target_dir)
    for name, info in sorted(existing.items()):
        if name in want or (only is not None and info["of"] != only):
            continue
        report["removed"].append(_remove(os.path.join(folder, name)))
    return report


def _remove(copy_dir: str) -> str:
    """Remove one copy folder: its SKILL.md and the links tierwise made (never
    what they point to); a folder holding anything else keeps that."""
    for name in os.listdir(copy_dir):
        path = os.path.join(copy_dir, name)
        if name == "SKILL.md" or os.path.islink(path):
            os.unlink(path)
    try:
        os.rmdir(copy_dir)
    except OSError:
        pass  # something of the user's inside: it stays
    return copy_dir


def remove_all(project: str) -> list[str]:
    """Remove every copy tierwise wrote in the project (``tierwise uninstall``)."""
    return [_remove(os.path.join(skills_dir(project), name)) for name in sorted(ours(project))]


# -- what the hooks do (through the Claude Code adapter) -----------------------------


def session_started(ctx: Context, compiled: dict[str, Any]) -> None:
    """SessionStart: Claude Code read its skills just before this hook, so the
    current copies on disk (:func:`loaded`) are the ones it knows; only those are
    redirected to in this session. Then the copies are brought up to date: a copy
    written now is used from the next session."""
    from tierwise.hot import paths

    source = ctx.payload.get("source")
    copies = loaded(ctx.project, compiled.get("skills") or {})
    if source not in ("clear", "compact"):  # else the same process: what it read at its start still holds
        # journaled when the session's lock is busy (hot/hooks/state.py)
        ctx.state_apply([{"set": [["forks"], {"copies": copies, "at": ctx.timestamp}]}],
                        "the forked skill copies Claude Code loaded")
    try:
        sync(ctx.project, compiled)
    except OSError as exc:
        paths.log_error(f"could not refresh the forked skill copies in {ctx.project}: {exc}")


def skill_written(ctx: Context, written: str) -> None:
    """A skill's SKILL.md was written in the project: rewrite its forked copies for
    the next session (this one keeps what it loaded at its start)."""
    folder = os.path.dirname(written)
    if os.path.dirname(folder) != os.path.realpath(skills_dir(ctx.project)):
        return
    name = os.path.basename(folder)
    if SEPARATOR in name:
        return  # a copy itself was written: the next SessionStart puts it right
    try:
        sync(ctx.project, ctx.cache, only=name)
    except OSError as exc:
        from tierwise.hot import paths

        paths.log_error(f"could not refresh the forked copies of {name}: {exc}")
