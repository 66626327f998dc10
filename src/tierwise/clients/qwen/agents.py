"""Qwen Code agent definitions that run a skill's subagent on its routed tier.

Qwen Code ignores PreToolUse ``updatedInput`` and its ``agent`` tool has no
model field: what sets a subagent's model is its definition,
``.qwen/agents/NAME.md`` with ``model:`` in the frontmatter, which Qwen Code
0.15.10 reads from disk each time an agent starts (``SubagentManager.
loadSubagent`` lists the project level afresh). So:

- ``tierwise install --platform qwen --agent-definitions`` writes one
  definition per specialist skill, named like the skill, its ``model:`` the
  Qwen model id of the skill's preferred tier;
- when a coordinator starts ``agent`` with ``subagent_type: NAME``, the
  PreToolUse hook sets that definition's ``model:`` to the tier it decided for
  this handoff (budget zone, overrides, minimum) before the agent starts;
- ``tierwise uninstall`` removes them.

Only files carrying tierwise's marker line (``generatedBy: tierwise``) and
not symlinked are ever rewritten or removed; a user's own definition of the
same name is left alone (and reported by install).

Hot module (:func:`set_model` runs in the hook): standard library only.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MARKER = "generatedBy: tierwise"
MAX_BYTES = 64 * 1024
# Qwen Code's rule for agent names (SubagentValidator.validateName), ASCII part
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_RESERVED = frozenset({"self", "system", "user", "model", "tool", "config", "default", "main"})


def agents_dir(project: str) -> str:
    return os.path.join(project, ".qwen", "agents")


def valid_name(skill: str) -> bool:
    """Whether Qwen Code accepts ``skill`` as an agent name."""
    return (
        2 <= len(skill) <= 50
        and skill[0] in _ALNUM
        and skill[-1] in _ALNUM
        and (_ALNUM | {"-", "_"}).issuperset(skill)
        and skill.lower() not in _RESERVED
    )


def definition_path(project: str, skill: str) -> str | None:
    return os.path.join(agents_dir(project), skill + ".md") if valid_name(skill) else None


def _quoted(text: str) -> str:
    """A one-line double-quoted value as Qwen Code's frontmatter parser reads it."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(skill: str, description: str, model: str, tier: str) -> str:
    return (
        "---\n"
        f"name: {skill}\n"
        f"description: {_quoted(description or f'Runs the {skill} skill.')}\n"
        f"model: {model}\n"
        f"{MARKER}\n"
        "---\n"
        f"You run the `{skill}` skill. Load it with the skill tool (name: {skill}) and follow its\n"
        "procedure for the task in your prompt; report what you found and what you changed.\n"
        "\n"
        f"<!-- Written by `tierwise install --agent-definitions`: the model above is the one of tier\n"
        f"{tier} when this was written; tierwise's PreToolUse hook sets it to the tier it decides for each\n"
        "handoff. Edit the skill, not this file; `tierwise uninstall` removes it. -->\n"
    )


def _frontmatter(text: str) -> tuple[int, int] | None:
    """(start, end) offsets of the frontmatter lines, between the ``---`` fences."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 3)
    return (4, end + 1) if end >= 0 else None


def read_generated(path: str) -> dict[str, Any] | None:
    """``{"text", "model"}`` of a definition tierwise wrote, else None (missing,
    a symlink, too large, or not carrying the marker)."""
    from tierwise.hot.fileio import read_bytes

    try:
        if os.path.islink(path):
            return None
        text = read_bytes(path, limit=MAX_BYTES).decode("utf-8")  # a FIFO here must not hang the hook
    except (OSError, UnicodeDecodeError):
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads it
    span = _frontmatter(text)
    if span is None:
        return None
    lines = text[span[0] : span[1]].splitlines()
    if MARKER not in lines:
        return None
    model = next((ln[len("model:") :].strip() for ln in lines if ln.startswith("model:")), None)
    return {"text": text, "model": model}


def set_model(path: str, model: str) -> str:
    """Point a tierwise definition at ``model``: "set", "unchanged", or "not ours"
    (missing, symlinked, or the user's own file: left alone)."""
    found = read_generated(path)
    if found is None or found["model"] is None or "\n" in model or not model.strip():
        return "not ours"
    if found["model"] == model:
        return "unchanged"
    text: str = found["text"]
    span = _frontmatter(text)
    assert span is not None
    lines = text[span[0] : span[1]].split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("model:"))
    lines[at] = f"model: {model}"
    head = "\n".join(lines)
    from tierwise.hot.fileio import atomic_write

    # atomic: Qwen Code may be reading it; no fsync: on the hook path, and rewritten at every handoff
    atomic_write(path, text[: span[0]] + head + text[span[1] :], fsync=False)
    return "set"
