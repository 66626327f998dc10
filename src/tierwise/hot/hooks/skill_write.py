"""PostToolUse on a file write: when the file is a SKILL.md inside the project,
run check_frontmatter (Warn tier, §7.2) and tell the model what to fix.

This is the one hook path that imports the cold validator (YAML): it runs only
when a SKILL.md was written, never for other files.
"""

from __future__ import annotations

import os

from tierwise.hot.hooks.runtime import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_SKILL_BYTES = 1024 * 1024


def _inside(path: str, root: str) -> bool:
    root = os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_written_skill(ctx: Context) -> dict[str, Any] | None:
    raw = ctx.adapter.written_path(ctx.payload.get("tool_input"))
    if not raw or os.path.basename(raw) != "SKILL.md":
        return None
    path = raw if os.path.isabs(raw) else os.path.join(ctx.project, raw)
    real = os.path.realpath(path)
    if os.path.basename(real) != "SKILL.md" or not _inside(real, ctx.project):
        return None  # never read outside the project
    from tierwise.hot.fileio import read_bytes

    try:
        text = read_bytes(real, limit=MAX_SKILL_BYTES).decode("utf-8")  # never a FIFO or a device
    except (OSError, UnicodeDecodeError):
        return None
    ctx.adapter.skill_written(ctx, real)
    from tierwise.hot import cold

    warnings = cold.check_frontmatter(text, real, ctx.adapter.platform)
    if not warnings:
        return None
    lines = [f"[tierwise] check_frontmatter: {len(warnings)} warning(s) in {raw}:"]
    for w in warnings[:20]:
        get = w.get if isinstance(w, dict) else (lambda k, _w=w: getattr(_w, k, None))
        field, message, fix = get("field"), get("message"), get("fix")
        lines.append(f"- {field}: {message}" + (f" (fix: {fix})" if fix else ""))
    return ctx.adapter.context("PostToolUse", "\n".join(lines))
