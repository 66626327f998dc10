"""The plugin / extension manifests tierwise ships (generated; tests/hooks/test_plugin.py
checks the committed files are current): each client's
``tierwise.clients.<name>.install.manifests`` names its files, this module
supplies the hook entries (the plugin launcher, ``hooks/run.py``).

Cold module (CLI only).
"""

from __future__ import annotations

import json
import os
from typing import Any

from tierwise.clients import CLIENTS
from tierwise.install.clients import client_parts
from tierwise.install.hooks import EVENTS

PLUGIN_COMMAND = 'python3 "${CLAUDE_PLUGIN_ROOT}/hooks/run.py" '
AUTHOR = {"name": "tierwise developers"}
DESCRIPTION = "Skill-level model routing and token budgets for coding agents"


def plugin_hooks(client: str) -> dict[str, Any]:
    """Hooks for the client's plugin manifest (``hooks/hooks.json`` for Claude Code,
    ``qwen-extension.json`` for Qwen Code); the client's ``plugin_hook`` says what
    one entry holds."""
    parts = client_parts(client)
    out: dict[str, Any] = {}
    for event, (matcher, seconds) in EVENTS.items():
        hook: dict[str, Any] = parts.plugin_hook(PLUGIN_COMMAND + event, seconds)
        group: dict[str, Any] = {}
        if matcher:
            group["matcher"] = matcher
        group["hooks"] = [hook]
        out[event] = [group]
    return out


def manifests(version: str) -> dict[str, Any]:
    """Relative path -> JSON content of every plugin/extension manifest (every client's)."""
    out: dict[str, Any] = {}
    for name in CLIENTS:
        out.update(client_parts(name).manifests(version, DESCRIPTION, AUTHOR, plugin_hooks(name)))
    return out


def write_manifests(root: str) -> list[str]:
    from tierwise import __version__
    from tierwise.hot.fileio import atomic_write

    written = []
    for rel, content in manifests(__version__).items():
        path = os.path.join(root, rel)
        atomic_write(path, json.dumps(content, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written
