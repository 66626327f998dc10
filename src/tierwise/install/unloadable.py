"""Skills in a client's project skill folder that the client would not load (install reports them).

Cold module (CLI only).
"""

from __future__ import annotations

import os
from typing import Any

from tierwise.install.clients import client_parts


def unloadable_skills(project: str, client: str) -> list[dict[str, str]]:
    """Skills under the client's project skill folder that the client would not load, with the fix."""
    parts = client_parts(client)
    skills_dir = os.path.join(project, str(getattr(parts, "SKILLS_DIR", os.path.join(parts.SETTINGS_DIR, "skills"))))
    if not os.path.isdir(skills_dir):
        return []
    from tierwise.frontmatter_check import check_text

    platform = parts.PLATFORM
    out: list[dict[str, str]] = []
    for name in sorted(os.listdir(skills_dir)):
        path = os.path.join(skills_dir, name, "SKILL.md")
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            out.append({"skill": name, "path": path, "problem": f"unreadable: {exc}", "fix": "save it as UTF-8"})
            continue
        for warning in check_text(text, path, platform):
            if _is_load_blocker(warning):
                out.append(
                    {
                        "skill": name,
                        "path": path,
                        "problem": str(_get(warning, "message")),
                        "fix": str(_get(warning, "fix") or f"tierwise validate --platform {client} --fix {path}"),
                    }
                )
    return out


def _get(warning: Any, key: str) -> Any:
    return warning.get(key) if isinstance(warning, dict) else getattr(warning, key, None)


def _is_load_blocker(warning: Any) -> bool:
    """A warning that means the client would not load the skill at all (not a style warning)."""
    message = str(_get(warning, "message") or "")
    return "refuses this skill" in message or _get(warning, "field") == "(frontmatter)"


