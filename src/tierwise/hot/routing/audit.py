"""The §5.3 ``[ROUTE]`` audit lines for one decision (docs/routing.md, "Audit lines").

Lines, in this order, each only when it applies:

    [ROUTE] SKILL
      Preferred: TIER                 (or "none (no model block)")
      Block error: KEY: MESSAGE       when the skill's model block is invalid (and ignored)
      User override: none | "the prompt phrase" | TIER (where it was set)
      Skill minimum: TIER             with a user override, or when the minimum decided
      Budget zone: ZONE (BINDING)     without a user override; the binding budget outside green
      Conservation mode: MODE         when it is not auto
      Upgrade triggers: ...           when the skill's conditions were evaluated
      Downgrade triggers: ...         idem; matched downgrade_to and the budget downgrade
      Hard cap: ...                   when the hard cap stepped down or blocked
      Warning: ...                    one per warning
      Options: ...                    when blocked or an offer is made, one per line
      → Decision: TIER (REASON)       or "blocked (REASON)"

Hot module: standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _user_line(override: dict[str, Any] | None) -> str:
    if not override:
        return "none"
    text = override.get("text")
    shown = f"\"{text}\"" if text else f"{override.get('tier')} ({override.get('scope')})"
    if override.get("refused"):
        shown += " (refused: allow_upgrade false)"
    return shown


def _step_notes(decision: dict[str, Any], name: str) -> list[str]:
    return [str(s.get("note", "")) for s in decision.get("steps") or [] if isinstance(s, dict) and s.get("step") == name]


def render_route(decision: dict[str, Any]) -> str:
    """The ``[ROUTE]`` block (no trailing newline)."""
    lines = [f"[ROUTE] {decision.get('skill')}"]
    preferred = decision.get("preferred")
    lines.append(f"  Preferred: {preferred if preferred else 'none (no model block)'}")
    if decision.get("block_error"):
        lines.append(f"  Block error: {decision['block_error']}")
    override = decision.get("user_override")
    lines.append(f"  User override: {_user_line(override)}")
    applied = isinstance(override, dict) and not override.get("refused")
    zone = decision.get("zone", "green")
    tier = decision.get("tier")
    minimum = decision.get("minimum")
    if applied:
        lines.append(f"  Skill minimum: {minimum if minimum else 'none (no model block)'}")
    else:
        binding = decision.get("binding")
        shown = f"{zone} ({binding})" if zone != "green" and binding else str(zone)
        lines.append(f"  Budget zone: {shown}")
        if decision.get("mode") not in (None, "auto"):
            lines.append(f"  Conservation mode: {decision['mode']}")
        if minimum and (decision.get("blocked") or (tier == minimum and tier != preferred)):
            lines.append(f"  Skill minimum: {minimum}")
        triggers = decision.get("triggers")
        if isinstance(triggers, dict):
            up = triggers.get("upgrade") or []
            down = triggers.get("downgrade") or []
            lines.append(f"  Upgrade triggers: {'; '.join(up) if up else 'none matched'}")
            lines.append(f"  Downgrade triggers: {'; '.join(down) if down else f'none ({zone} zone)'}")
    for note in _step_notes(decision, "hard_cap"):
        if note.startswith("blocked") or "stepped down" in note:
            lines.append(f"  Hard cap: {note}")
    for warning in decision.get("warnings") or []:
        lines.append(f"  Warning: {warning}")
    opts = decision.get("options") or []
    if opts:
        lines.append("  Options:")
        lines.extend(f"    - {o}" for o in opts)
    if decision.get("blocked"):
        reason = str(decision.get("reason", ""))
        if reason.startswith("blocked: "):
            reason = reason[len("blocked: "):]
        lines.append(f"  → Decision: blocked ({reason})")
    else:
        shown_tier = tier if tier else "platform default"
        lines.append(f"  → Decision: {shown_tier} ({decision.get('reason', '')})")
    return "\n".join(lines)
