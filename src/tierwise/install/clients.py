"""The installer parts of each registered client (``tierwise/clients/<name>/install.py``),
and which clients a project or user has.

Each client's module provides ``SETTINGS_DIR`` (the project folder holding
``settings.json`` and ``skills/``), ``PLATFORM`` (the config spelling),
``DISPLAY_NAME``, ``PROJECT_MARKERS`` (files or folders that show a project uses
the client), ``user_config_dir(home)``, ``COMMENTS_NOTE``, ``STATUSLINE_PARENT``
(the settings key holding ``statusLine``, None for the top level),
``timeout(seconds)`` (the client's unit for a hook timeout),
``plugin_hook(command, seconds)``, ``manifests(version, description, author, hooks)`` and
``write_inline_enforcement(project)`` / ``remove_inline_enforcement(project)`` (what
runs the project's inline skills on their tier, ``install.inline``).

Cold module (CLI only).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from tierwise.clients import CLIENTS
from tierwise.hot.errors import UsageError


def client_parts(client: str) -> ModuleType:
    if client not in CLIENTS:
        raise UsageError(f"unknown client {client!r}", fix=f"use one of {', '.join(CLIENTS)}")
    return importlib.import_module(f"tierwise.clients.{client}.install")


def settings_dirs() -> dict[str, str]:
    """Client -> its project settings folder (``{"claude": ".claude", "qwen": ".qwen"}``)."""
    return {name: str(client_parts(name).SETTINGS_DIR) for name in CLIENTS}


def clients_for(platform: str) -> list[str]:
    if platform == "all":
        return list(CLIENTS)
    if platform in CLIENTS:
        return [platform]
    raise UsageError(f"unknown platform {platform!r}", fix=f"use --platform {', '.join(CLIENTS)} or all")


CLIENT_NAMES: dict[str, str] = {name: str(client_parts(name).DISPLAY_NAME) for name in CLIENTS}


def _markers(client: str) -> tuple[str, ...]:
    return tuple(client_parts(client).PROJECT_MARKERS)


def project_clients(project: str) -> list[str]:
    """The clients a project shows it uses: ``.claude/`` or ``CLAUDE.md``, ``.qwen/`` or ``QWEN.md``,
    ``.codex/`` or ``.agents/skills``."""
    return [c for c in CLIENTS if any(os.path.exists(os.path.join(project, n)) for n in _markers(c))]


def detect_clients(project: str, home: str | None = None, path: str | None = None) -> tuple[list[str], str]:
    """The clients ``install`` sets up when no ``--platform`` is given, and why.

    The project's own markers first (``.claude/`` or ``CLAUDE.md``, ``.qwen/`` or
    ``QWEN.md``, ``.codex/`` or ``.agents/skills``): a Claude-only project gets no
    Qwen settings. Without any, the clients this user has (``claude`` / ``qwen`` /
    ``codex`` on PATH, or ``~/.claude`` / ``~/.qwen`` / ``~/.codex``). Without those
    either, Claude Code (the first registered client)."""
    import shutil

    found = project_clients(project)
    if found:
        seen = [n for c in found for n in _markers(c) if os.path.exists(os.path.join(project, n))]
        return found, f"the project has {' and '.join(seen)}"
    home = home if home is not None else os.path.expanduser("~")
    why: list[str] = []
    for client in CLIENTS:
        config_dir = str(client_parts(client).user_config_dir(home))
        if shutil.which(client, path=path):
            why.append(f"`{client}` is on PATH")
            found.append(client)
        elif os.path.isdir(config_dir):
            why.append(f"{config_dir} exists")
            found.append(client)
    if found:
        return found, "the project names no client, and " + " and ".join(why)
    folders = " or ".join(f"{client_parts(c).SETTINGS_DIR}/" for c in CLIENTS)
    return [CLIENTS[0]], f"no client found (no {folders} in the project, no {' or '.join(CLIENTS)} on PATH)"
