"""Codex CLI's installer parts (``tierwise.install`` iterates the clients and asks these).

Codex reads hooks from ``hooks.json`` beside a config layer: the project's
``.codex/hooks.json`` (a project layer loads only once the project is trusted:
``codex --trust`` or the first-run prompt) or ``$CODEX_HOME/hooks.json``
(``~/.codex/hooks.json``, ``tierwise install --user``). The file has Claude
Code's shape (``{"hooks": {EVENT: [{matcher, hooks: [...]}]}}``), timeouts in
seconds. Codex runs a hook only once the user has trusted it (reviewed in
``/hooks``; recorded as a hash in ``config.toml``): see :data:`TRUST_STEPS`.

Cold module (CLI only).
"""

from __future__ import annotations

import os
from typing import Any

SETTINGS_DIR = ".codex"  # <project>/.codex/hooks.json, .codex/model-routing.yaml, .codex/session-config.yaml
SETTINGS_FILE = "hooks.json"
PLATFORM = "codex"
DISPLAY_NAME = "Codex CLI"
PROJECT_MARKERS = (".codex", os.path.join(".agents", "skills"))  # its config layer, or skills where Codex finds them
COMMENTS_NOTE = ""  # Codex parses hooks.json as plain JSON
STATUSLINE_PARENT = None
HAS_STATUSLINE = False  # Codex runs no status line command: install --statusline says so and skips it
SKILLS_DIR = os.path.join(".agents", "skills")  # where Codex finds a repository's skills

# The spawn tool arrives namespaced: "collaborationspawn_agent" (0.171), "multi_agent_v1spawn_agent" (earlier).
SPAWN_MATCHER = "^(collaboration|multi_agent_v1)?spawn_agent$"
# event -> (matcher or None, timeout in seconds). Codex has no PostToolUseFailure.
HOOK_EVENTS: dict[str, tuple[str | None, int]] = {
    "SessionStart": (None, 30),
    "UserPromptSubmit": (None, 10),
    "PreToolUse": (SPAWN_MATCHER, 10),
    "PostToolUse": (SPAWN_MATCHER, 15),
    "SubagentStop": (None, 15),
    "Stop": (None, 30),
    "SessionEnd": (None, 3),  # Codex clamps a SessionEnd hook to 3 s
}

TRUST_STEPS = (
    "Codex runs hooks only after you trust them, once per change of the hooks file: start `codex` in the "
    "project, type /hooks, review tierwise's entries and trust them. A project's .codex/ folder is read only "
    "in a trusted project (Codex asks on the first start; `codex exec --trust` trusts it from a script). "
    "For a single scripted run, `codex exec --dangerously-bypass-hook-trust` runs them without review."
)


def user_config_dir(home: str) -> str:
    """``$CODEX_HOME`` (Codex's own override), else ``~/.codex``."""
    return os.environ.get("CODEX_HOME") or os.path.join(home, ".codex")


def timeout(seconds: int) -> int:
    """Codex counts hook timeouts in seconds (as Claude Code does)."""
    return seconds


def plugin_hook(command: str, seconds: int) -> dict[str, Any]:
    return {"type": "command", "command": command + " --client codex", "timeout": timeout(seconds)}


def manifests(version: str, description: str, author: dict[str, str], hooks: dict[str, Any]) -> dict[str, Any]:
    """No plugin manifest: tierwise reaches Codex through ``tierwise install --platform codex``."""
    return {}


def write_inline_enforcement(project: str) -> dict[str, Any]:
    """Nothing to write: Codex CLI has no skill tool a hook could point at another
    model (an inline skill's tier stays advisory; docs/hooks.md)."""
    return {}


def remove_inline_enforcement(project: str) -> list[str]:
    return []
