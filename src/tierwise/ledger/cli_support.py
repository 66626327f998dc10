"""Shared pieces of the ledger commands (cold)."""

from __future__ import annotations

import os
import sys
from typing import Any

from tierwise.hot.errors import TierwiseError


def platform_key(name: str | None) -> str:
    if name == "codex":
        return "codex"
    return "qwen_code" if name in ("qwen", "qwen_code") else "claude_code"


def load_config(project: str | None, platform: str = "claude_code", *, strict: bool = False) -> dict[str, Any] | None:
    """The project's resolved config (snapshot-cached). A broken config is an
    error when ``strict`` (budgets need it), else a note and ``None``."""
    from tierwise.hot import paths
    from tierwise.ledger import configsnap

    project_dir = os.path.abspath(project) if project else paths.project_dir()
    try:
        return configsnap.resolve_cached(project_dir, platform)
    except TierwiseError as exc:
        if strict:
            raise
        print(f"note: reporting without the routing config (tiers, time zone): it has a problem:\n{exc.render()}",
              file=sys.stderr)
        return None


def open_ledger() -> Any:
    from tierwise.hot.ledger import connection

    return connection.connect()


def progress_enabled() -> bool:
    from tierwise.output import is_terminal

    return is_terminal(sys.stderr)
