"""What makes a project's inline skills run on their tier (``enforcement.inline_skills:
fork`` or a skill's ``enforce: fork``; docs/hooks.md): each client's
``write_inline_enforcement(project)`` / ``remove_inline_enforcement(project)``
(Claude Code: hidden forked copies per tier; Qwen Code: pinned ``model:`` lines).

Cold module (CLI only).
"""

from __future__ import annotations

from typing import Any

from tierwise.hot.errors import StateError
from tierwise.install.clients import client_parts


def write_inline_enforcement(project: str, client: str) -> dict[str, Any]:
    try:
        return client_parts(client).write_inline_enforcement(project)  # type: ignore[no-any-return]
    except OSError as exc:
        raise StateError(f"cannot write the skills that run inline on their tier ({exc.strerror or exc})",
                         file=getattr(exc, "filename", None) or project,
                         fix="check the permissions of the project's skill folders") from exc


def remove_inline_enforcement(project: str, client: str) -> list[str]:
    try:
        return client_parts(client).remove_inline_enforcement(project)  # type: ignore[no-any-return]
    except OSError as exc:
        raise StateError(f"cannot remove tierwise's inline-skill files ({exc.strerror or exc})",
                         file=getattr(exc, "filename", None) or project,
                         fix="check the permissions of the project's skill folders") from exc
