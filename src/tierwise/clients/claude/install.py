"""Claude Code's installer parts (``tierwise.install`` iterates the clients and asks these).

Cold module (CLI only).
"""

from __future__ import annotations

import os
from typing import Any

SETTINGS_DIR = ".claude"  # <project>/.claude/settings.json, .claude/skills/
PLATFORM = "claude_code"
DISPLAY_NAME = "Claude Code"
PROJECT_MARKERS = (".claude", "CLAUDE.md")
COMMENTS_NOTE = ""  # Claude Code does not accept comments in settings.json
STATUSLINE_PARENT = None  # Claude Code reads "statusLine" at the top level


def user_config_dir(home: str) -> str:
    return os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(home, ".claude")


def timeout(seconds: int) -> int:
    """Claude Code counts hook timeouts in seconds."""
    return seconds


def plugin_hook(command: str, seconds: int) -> dict[str, Any]:
    """hooks/hooks.json declares no timeouts: Qwen Code copies a Claude plugin's
    timeouts without converting seconds to milliseconds, and both clients'
    defaults (600 s, 60 000 ms) are safe. It names no client either: the
    launcher recognises Qwen Code by its environment."""
    return {"type": "command", "command": command}


def manifests(version: str, description: str, author: dict[str, str], hooks: dict[str, Any]) -> dict[str, Any]:
    """The Claude Code plugin: its manifest, its marketplace entry and its hooks file."""
    return {
        ".claude-plugin/plugin.json": {
            "name": "tierwise",
            "version": version,
            "description": description,
            "author": author,
            "license": "MIT",
            "keywords": ["model-routing", "skills", "budget", "tokens"],
        },
        ".claude-plugin/marketplace.json": {
            "name": "tierwise",
            "owner": author,
            "metadata": {"description": description, "version": version},
            "plugins": [
                {
                    "name": "tierwise",
                    "source": "./",
                    "description": description,
                    "version": version,
                    "author": author,
                }
            ],
        },
        "hooks/hooks.json": {"description": "tierwise routing hooks", "hooks": hooks},
    }


def write_inline_enforcement(project: str) -> dict[str, Any]:
    """Write (and prune) the hidden forked copies of the skills the project runs
    inline with ``enforce: fork`` (``clients/claude/forks.py``); returns what was done."""
    from tierwise.clients.claude import forks
    from tierwise.hot import cache

    return forks.sync(project, cache.load(project, PLATFORM))


def remove_inline_enforcement(project: str) -> list[str]:
    """Remove every forked copy tierwise wrote in the project."""
    from tierwise.clients.claude import forks

    return forks.remove_all(project)
