"""Claude Code's model aliases (``model: haiku`` on an Agent call or a skill).

Hot module (the hook adapter and the forked skill copies use it): standard library only.
"""

from __future__ import annotations

CLAUDE_ALIASES = ("haiku", "sonnet", "opus", "fable")


def alias_for(tier: str | None, model_id: str | None) -> str | None:
    """The Claude Code ``model`` alias for a tier (tier name, else from its model id)."""
    if tier in CLAUDE_ALIASES:
        return tier
    if isinstance(model_id, str):
        low = model_id.lower()
        for alias in CLAUDE_ALIASES:
            if alias in low:
                return alias
    return None
