"""Qwen Code: the model an inline skill runs on, pinned in its SKILL.md.

Qwen Code 0.15.10 honours a string ``model:`` in a skill's frontmatter: after
the ``skill`` call, the session's requests go to that model id until the next
user prompt or until a skill without ``model:`` is loaded (then back to the
session's model); a subagent keeps its own model (checked end-to-end,
tests/e2e/test_qwen_ground.py). It reads skills when it starts and again when a
skill file changes (a file watcher, 150 ms after the change), never per call,
and it ignores a PreToolUse ``updatedInput``: nothing can choose the model of
one call. What tierwise can do is keep the line at the tier it would decide
now, and only between turns:

    model: qwen3-coder-flash
    tierwise-pinned: haiku

inserted together just before the closing ``---`` (the second line is the
marker; only a ``model:`` line followed by it is ever rewritten or removed,
and removing both gives the file back byte for byte). ``tierwise install``
writes them; every Stop rewrites them for the next turn from the budget and the
config files (not from a prompt's inline override, which belongs to one
session); ``tierwise uninstall`` removes them. A hook never writes them during
a turn, so what a turn runs on is what the files said when it began.

Only skills in the project's ``.qwen/skills`` are pinned (a user-level skill
is shared with other projects). A skill whose own frontmatter has a ``model:``
keeps it (the user's choice; a ``model: <tier>`` shorthand is moved to
``routing:`` by ``tierwise validate --platform qwen --fix``).

Hot module: standard library only (Stop and PreToolUse use it).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tierwise.hot.hooks.runtime import Context

MARKER = "tierwise-pinned"
MAX_BYTES = 1024 * 1024


def skills_dir(project: str) -> str:
    return os.path.join(project, ".qwen", "skills")


def _lines(text: str) -> tuple[list[str], str, int] | None:
    """``(lines without their ends, newline, index of the closing fence)``;
    None without a frontmatter."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    if not lines or lines[0].lstrip("\ufeff").rstrip(" \t") != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip(" \t") == "---":
            return lines, newline, i
    return None


def _model_key(line: str) -> bool:
    return line.startswith("model:") or line.startswith("model :")


def read(text: str) -> dict[str, Any]:
    """What a SKILL.md says about its model: ``{"pinned": tier|None, "model":
    the pinned id|None, "own_model": the user's own model: value|None}``."""
    out: dict[str, Any] = {"pinned": None, "model": None, "own_model": None}
    found = _lines(text)
    if found is None:
        return out
    lines, _, end = found
    for i in range(1, end):
        line = lines[i]
        if not _model_key(line):
            continue
        value = line.split(":", 1)[1].strip()
        nxt = lines[i + 1] if i + 1 < end else ""
        if nxt.startswith(MARKER + ":"):
            out["pinned"], out["model"] = nxt.split(":", 1)[1].strip(), value
        else:
            out["own_model"] = value
    return out


def read_file(path: str) -> dict[str, Any] | None:
    from tierwise.hot.fileio import read_bytes

    try:
        if os.path.islink(path):
            return None  # shared with something else: never written, so never read as pinned
        return read(read_bytes(path, limit=MAX_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def pin(text: str, tier: str | None, model: str | None) -> str | None:
    """``text`` with tierwise's pin set to ``model`` (tier ``tier``), or removed
    when ``model`` is None. None when it cannot be pinned (no frontmatter, the
    user's own ``model:``)."""
    found = _lines(text)
    if found is None:
        return None if model else text
    lines, newline, end = found
    at = None
    for i in range(1, end):
        if _model_key(lines[i]):
            if i + 1 < end and lines[i + 1].startswith(MARKER + ":"):
                at = i
            else:
                return None if model else text  # the user's own model: line
    if at is not None:
        del lines[at : at + 2]
        end -= 2
    if model:
        if "\n" in model or "\r" in model or not model.strip() or not tier:
            return None
        lines[end:end] = [f"model: {model}", f"{MARKER}: {tier}"]
    return newline.join(lines)


def write(path: str, tier: str | None, model: str | None) -> str:
    """Set (or, with ``model`` None, remove) the pin of one SKILL.md: "set",
    "removed", "unchanged", or "skipped" (a symlink, unreadable, the user's
    own ``model:``)."""
    from tierwise.hot.fileio import atomic_write, read_bytes

    try:
        if os.path.islink(path):
            return "skipped"
        text = read_bytes(path, limit=MAX_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return "skipped"
    new = pin(text, tier, model)
    if new is None:
        return "skipped"
    if new == text:
        return "unchanged"
    atomic_write(path, new, fsync=False)
    return "set" if model else "removed"


def decide_pins(compiled: dict[str, Any], budget: dict[str, Any]) -> dict[str, tuple[str, str | None, str | None]]:
    """For every project skill: ``{name: (SKILL.md path, tier, model)}``, tier
    and model None when it must not be pinned (its inline tier is advisory).
    The tier is decided as a skill call would be, with the budget and the
    config files but no prompt override."""
    from tierwise.hot import tiers
    from tierwise.hot.routing.decide import decide
    from tierwise.hot.routing.enforcement import inline_mode

    config = compiled["config"]
    out: dict[str, tuple[str, str | None, str | None]] = {}
    for key, entry in sorted((compiled.get("skills") or {}).items()):
        if not isinstance(entry, dict) or entry.get("name") != key or entry.get("scope") != "project":
            continue
        path = str(entry.get("path") or "")
        if inline_mode(entry, config)[0] != "fork" or entry.get("placement") in ("model-string", "model-mapping"):
            out[key] = (path, None, None)
            continue
        decision = decide(key, entry.get("block"), entry.get("role") or "specialist", config, {}, budget, "",
                          "qwen_code")
        if decision.get("blocked"):
            continue  # its calls are refused by PreToolUse anyway: the pin stays as it is
        tier = decision.get("tier")
        model = None
        if isinstance(tier, str) and tiers.is_tier(config, tier):
            model = tiers.model_for(config, tier, "qwen_code")
        out[key] = (path, tier if model else None, model)
    return out


def sync(compiled: dict[str, Any], budget: dict[str, Any]) -> dict[str, Any]:
    """Pin every project skill as :func:`decide_pins` says (unpin the rest).
    Returns ``{"set", "removed", "unchanged", "skipped"}`` (skill names)."""
    report: dict[str, Any] = {"set": [], "removed": [], "unchanged": [], "skipped": []}
    for name, (path, tier, model) in decide_pins(compiled, budget).items():
        outcome = write(path, tier, model)
        if outcome in ("skipped", "unchanged") and not model:
            continue  # nothing of ours there, nothing wanted
        report[outcome].append(name)
    return report


def remove_all(project: str) -> list[str]:
    """Remove every pin in the project's skills (``tierwise uninstall``)."""
    folder = skills_dir(project)
    removed = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    for name in names:
        path = os.path.join(folder, name, "SKILL.md")
        if os.path.isfile(path) and write(path, None, None) == "removed":
            removed.append(path)
    return removed


def turn_ended(ctx: Context) -> None:
    """Stop: set each forked skill's pinned ``model:`` for the next turn, from the
    budget as it is now (without this session's own window) and the config files.
    Written only here, between turns."""
    from tierwise.hot.routing.enforcement import inline_mode

    compiled = ctx.cache
    skills = compiled.get("skills") or {}
    wanted = any(isinstance(e, dict) and e.get("scope") == "project" and inline_mode(e, ctx.config)[0] == "fork"
                 for e in skills.values())
    if not wanted and not any(isinstance(e, dict) and e.get("pinned") for e in skills.values()):
        return
    from tierwise.hot import paths
    from tierwise.hot.ledger import budget as budget_mod

    measured = budget_mod.measure(ctx.conn, ctx.config, None, ctx.now, ctx.project)
    try:
        sync(compiled, budget_mod.assemble(ctx.config, measured))
    except OSError as exc:
        paths.log_error(f"could not pin the Qwen Code skills' models in {ctx.project}: {exc}")
