"""Which skill a subagent handoff is for.

Looked for, in order (the first that names a known skill wins):

1. a ``{"skill": NAME}`` object in the prompt (what coordinators are told to send);
2. ``subagent_type`` naming a skill, or an agent definition named like one;
3. a path in the prompt: ``.../skills/NAME/SKILL.md`` or ``skills/NAME/``.

Names are filtered through :func:`safe_skill_name` before any lookup, and the
lookup itself (``cache.find_skill``) only consults the skill index, so a
handoff never leads to a file outside the skill roots.

Hot module: standard library only.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json

from tierwise.hot.hooks.adapter import _NAME_CHARS, safe_skill_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

MAX_SCAN = 64 * 1024  # a handoff prompt is scanned up to this many characters
_BEFORE_PATH = frozenset(" \t\r\n/\"'`(")


def _skill_objects(text: str) -> list[str]:
    """Names in ``{"skill": NAME, ...}`` objects (no nested braces) found in the text."""
    out: list[str] = []
    pos = 0
    while len(out) < 16:
        key = text.find('"skill"', pos)
        if key < 0:
            break
        pos = key + 7
        start = text.rfind("{", max(0, key - 400), key)
        end = text.find("}", key, key + 800)
        if start < 0 or end < 0 or "{" in text[start + 1 : key] or "{" in text[key:end]:
            continue
        try:
            obj = json.loads(text[start : end + 1])
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("skill"), str):
            out.append(obj["skill"])
    return out


def _skill_paths(text: str) -> list[str]:
    """NAME in ``skills/NAME/SKILL.md`` or ``skills/NAME/`` found in the text."""
    out: list[str] = []
    pos = 0
    while len(out) < 16:
        at = text.find("skills/", pos)
        if at < 0:
            break
        pos = at + 7
        if at > 0 and text[at - 1] not in _BEFORE_PATH:
            continue
        end = pos
        while end < len(text) and end - pos < 128 and text[end] in _NAME_CHARS:
            end += 1
        if end > pos and end < len(text) and text[end] == "/":
            out.append(text[pos:end])
    return out


def candidates(tool_input: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, how) pairs in order of preference, names already filtered."""
    out: list[tuple[str, str]] = []
    prompt = tool_input.get("prompt")
    text = prompt[:MAX_SCAN] if isinstance(prompt, str) else ""
    for raw in _skill_objects(text):
        name = safe_skill_name(raw)
        if name:
            out.append((name, "skill object in the prompt"))
    subagent = safe_skill_name(tool_input.get("subagent_type"))
    if subagent:
        out.append((subagent, "subagent_type"))
    for raw in _skill_paths(text):
        name = safe_skill_name(raw)
        if name:
            out.append((name, "skill path in the prompt"))
    return out


def find_target(
    tool_input: object, lookup: Callable[[str], dict[str, Any] | None]
) -> tuple[dict[str, Any], str] | None:
    """The skill entry the handoff is for and how it was found, or None."""
    if not isinstance(tool_input, dict):
        return None
    seen = set()
    for name, how in candidates(tool_input):
        if name in seen:
            continue
        seen.add(name)
        entry = lookup(name)
        if entry is not None:
            return entry, how
    return None
