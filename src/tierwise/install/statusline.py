"""tierwise's status line in a client's settings (``install --statusline``): the
command it writes, recognising it (a status line the user set is theirs), and
setting / removing it. Where the client reads it (Claude Code ``statusLine`` at
the top level, Qwen Code 0.15.10 ``ui.statusLine``) comes from
``tierwise.clients.<name>.install.STATUSLINE_PARENT``.

Cold module (CLI only).
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from tierwise.clients import CLIENTS
from tierwise.hot.errors import InputError
from tierwise.install.clients import client_parts
from tierwise.install.settings import _had_key, _Settings

STATUSLINE_ENTRY = "from tierwise.ledger.statusline import run; run()"


def statusline_command(client: str, python: str | None = None) -> str:
    """``"<python>" -P -c "<statusline entry>" --client C``: ``tierwise statusline`` without argparse."""
    exe = python or sys.executable
    return f"{shlex.quote(exe)} -P -c {shlex.quote(STATUSLINE_ENTRY)} --client {client}"


def _client_only(tail: list[str]) -> bool:
    return not tail or (len(tail) == 2 and tail[0] == "--client" and tail[1] in CLIENTS)


def is_tierwise_statusline(command: object) -> bool:
    """True only for the status line command tierwise writes (``statusline_command``). A
    ``tierwise statusline`` the user configured by hand is theirs: uninstall leaves it."""
    if not isinstance(command, str):
        return False
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    return len(argv) >= 4 and argv[1:4] == ["-P", "-c", STATUSLINE_ENTRY] and _client_only(argv[4:])



# -- the status line -----------------------------------------------------------------------------
# Claude Code reads "statusLine" at the top level, Qwen Code (0.15.10) "ui.statusLine"; both
# take {"type": "command", "command": ...} and pipe their status JSON to it.


def statusline_parent(client: str) -> str | None:
    """The top-level key holding the client's ``statusLine`` (None: the top level itself)."""
    parent: str | None = client_parts(client).STATUSLINE_PARENT
    return parent


def statusline_key(client: str) -> str:
    parent = statusline_parent(client)
    return "statusLine" if parent is None else f"{parent}.statusLine"


def statusline_snippet(client: str, python: str | None) -> dict[str, Any]:
    line = {"statusLine": {"type": "command", "command": statusline_command(client, python)}}
    parent = statusline_parent(client)
    return line if parent is None else {parent: line}


def _statusline_holder(s: _Settings, data: dict[str, Any], create: bool) -> dict[str, Any] | None:
    parent = statusline_parent(s.client)
    if parent is None:
        return data
    holder = data.get(parent)
    if holder is None and create:
        holder = data[parent] = {}
    if holder is not None and not isinstance(holder, dict):
        raise InputError(f"expected an object, got {type(holder).__name__}", file=s.path, key=parent,
                         fix=f'make "{parent}" an object such as {{"statusLine": {{...}}}} (tierwise does not overwrite it)')
    return holder


def _plan_statusline(s: _Settings, data: dict[str, Any], python: str | None) -> str:
    """Set tierwise's status line in ``data``; returns added, updated, unchanged or kept
    (the user's own status line, which tierwise never replaces)."""
    holder = _statusline_holder(s, data, create=True)
    assert holder is not None
    want = {"type": "command", "command": statusline_command(s.client, python)}
    current = holder.get("statusLine")
    if current is None:
        holder["statusLine"] = want
        return "added"
    if isinstance(current, dict) and is_tierwise_statusline(current.get("command")):
        merged = {**current, **want}
        if merged == current:
            return "unchanged"
        holder["statusLine"] = merged
        return "updated"
    return "kept"


def _remove_statusline(s: _Settings, data: dict[str, Any]) -> bool:
    holder = _statusline_holder(s, data, create=False)
    current = holder.get("statusLine") if holder is not None else None
    if not (isinstance(current, dict) and is_tierwise_statusline(current.get("command"))):
        return False
    assert holder is not None
    del holder["statusLine"]
    parent = statusline_parent(s.client)
    if parent is not None and not holder and not _had_key(s, parent):
        del data[parent]
    return True


