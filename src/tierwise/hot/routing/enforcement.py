"""How a decided tier is applied: enforced by the client, or advice to the model.

Pure (no I/O): the hooks ask the client adapter what it can do and record the
answer with the decision (``decisions.enforcement`` / ``enforcement_note``),
so the summary, ``tierwise audit`` and ``tierwise report skill`` can say per
skill whether its tier was enforced or advisory, and why.

An inline skill (the ``Skill`` / ``skill`` tool, no subagent) is enforced only
when the project asks (``enforcement.inline_skills: fork``, a skill's
``enforce:`` or ``overrides.<skill>.enforce``) and the client can do it
(docs/hooks.md, "Inline skills: enforced or advisory").

Hot module: standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MODES = ("advisory", "fork")
ENFORCED = "enforced"
ADVISORY = "advisory"


def _project_override(name: str, config: dict[str, Any]) -> tuple[Any, str]:
    """``(overrides.<skill>.enforce, the key it sits under)``; a plugin skill
    ``PLUGIN:NAME`` also matches ``overrides.NAME``."""
    overrides = config.get("overrides")
    if not isinstance(overrides, dict):
        return None, name
    key = name
    po = overrides.get(name)
    if po is None and ":" in name:
        key = name.split(":", 1)[1]
        po = overrides.get(key)
    return (po.get("enforce") if isinstance(po, dict) else None), key


def inline_mode(entry: dict[str, Any], config: dict[str, Any]) -> tuple[str, str]:
    """``(mode, where it was set)`` for a skill that runs inline.

    Precedence: the project's ``overrides.<skill>.enforce`` > the skill's own
    ``enforce:`` > ``enforcement.inline_skills`` (default advisory)."""
    name = str(entry.get("name") or "")
    value, key = _project_override(name, config)
    if value in MODES:
        return str(value), f"overrides.{key}.enforce"
    block = entry.get("block")
    value = block.get("enforce") if isinstance(block, dict) else None
    if value in MODES:
        return str(value), "the skill's enforce:"
    section = config.get("enforcement")
    value = section.get("inline_skills") if isinstance(section, dict) else None
    if value in MODES:
        return str(value), "enforcement.inline_skills"
    return "advisory", "enforcement.inline_skills (default)"


def result(status: str, note: str, **extra: Any) -> dict[str, Any]:
    """An enforcement outcome: ``{"status": enforced|advisory, "note": why/how, ...}``."""
    return {"status": status, "note": note, **extra}


def advisory_by_choice(mode_source: str, client: str) -> dict[str, Any]:
    """The outcome for an inline skill whose project keeps inline tiers advisory."""
    return result(
        ADVISORY,
        f"inline skills are advisory here ({mode_source}): {client} runs an inline skill on the session's "
        "model; `enforcement: {inline_skills: fork}` or the skill's `enforce: fork` runs it on its tier",
    )
