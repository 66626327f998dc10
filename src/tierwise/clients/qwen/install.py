"""Qwen Code's installer parts (``tierwise.install`` iterates the clients and asks
these), and the agent definitions ``tierwise install --agent-definitions`` writes.

Cold module (CLI only).
"""

from __future__ import annotations

import os
from typing import Any

from tierwise.hot.errors import StateError

SETTINGS_DIR = ".qwen"  # <project>/.qwen/settings.json, .qwen/skills/, .qwen/agents/
PLATFORM = "qwen_code"
DISPLAY_NAME = "Qwen Code"
PROJECT_MARKERS = (".qwen", "QWEN.md")
COMMENTS_NOTE = ", which Qwen Code allows"  # it strips comments before JSON.parse (install.settings)
STATUSLINE_PARENT = "ui"  # Qwen Code 0.15.10 reads "ui.statusLine"


def user_config_dir(home: str) -> str:
    return os.path.join(home, ".qwen")


def timeout(seconds: int) -> int:
    """Qwen Code counts hook timeouts in milliseconds (PLATFORMS.md)."""
    return seconds * 1000


def plugin_hook(command: str, seconds: int) -> dict[str, Any]:
    """qwen-extension.json names the client and states the timeout in milliseconds."""
    return {"type": "command", "command": command + " --client qwen", "timeout": timeout(seconds)}


def manifests(version: str, description: str, author: dict[str, str], hooks: dict[str, Any]) -> dict[str, Any]:
    """The Qwen Code extension manifest."""
    return {
        "qwen-extension.json": {
            "name": "tierwise",
            "version": version,
            "description": description,
            "hooks": hooks,
        },
    }


def write_agent_definitions(project: str) -> dict[str, Any]:
    """Write ``.qwen/agents/NAME.md`` for every specialist skill Qwen Code loads in
    the project (``tierwise.clients.qwen.agents``): ``model:`` is the Qwen model id of the
    skill's tier in the green zone; the hook keeps it at each handoff's tier.

    Returns ``{"dir", "written", "unchanged", "removed", "kept", "skipped"}``:
    ``kept`` are the user's own definitions of a skill's name (left alone, so
    that skill's handoffs keep the user's model), ``skipped`` skills that cannot
    have one (name or model id), ``removed`` tierwise definitions of skills
    that are gone.
    """
    from tierwise.hot import cache, tiers
    from tierwise.clients.qwen import agents as qwen_agents
    from tierwise.clients.qwen.frontmatter import normalize_content, parse as qwen_parse
    from tierwise.hot.fileio import atomic_write
    from tierwise.hot.routing.decide import decide

    compiled = cache.load(project, "qwen_code")
    config = compiled["config"]
    green: dict[str, Any] = {"zone": "green", "binding": None, "budgets": [], "exhausted_tiers": []}
    folder = qwen_agents.agents_dir(project)
    out: dict[str, Any] = {"dir": folder, "written": [], "unchanged": [], "removed": [], "kept": [], "skipped": []}
    wanted: set[str] = set()
    for name, entry in sorted((compiled.get("skills") or {}).items()):
        if not isinstance(entry, dict) or entry.get("role") == "coordinator":
            continue
        path = qwen_agents.definition_path(project, name)
        if path is None:
            out["skipped"].append({"skill": name, "why": "Qwen Code accepts agent names of 2-50 letters, digits, "
                                   "'-' and '_' (not at either end), and not a reserved word"})
            continue
        decision = decide(name, entry.get("block"), "specialist", config, {}, green, "", "qwen_code")
        tier = str(decision.get("tier") or "")
        model = tiers.model_for(config, tier, "qwen_code") if tiers.is_tier(config, tier) else None
        if not model:
            out["skipped"].append({"skill": name, "why": f"tier {tier or '?'} has no qwen_code model id",
                                   "fix": f"set tiers.{tier}.models.qwen_code in model-routing.yaml"})
            continue
        wanted.add(name)
        if os.path.lexists(path) and qwen_agents.read_generated(path) is None:
            out["kept"].append(path)
            continue
        try:
            with open(entry["path"], encoding="utf-8") as fh:
                text = normalize_content(fh.read())
            front = text.split("---\n", 2)[1] if text.startswith("---\n") and text.count("---\n") >= 2 else ""
            description = qwen_parse(front).get("description")
        except (OSError, UnicodeDecodeError, KeyError):
            description = None
        body = qwen_agents.render(name, str(description or ""), model, tier)
        if qwen_agents.read_generated(path) is not None:
            with open(path, encoding="utf-8") as fh:
                if fh.read() == body:
                    out["unchanged"].append(path)
                    continue
        try:
            atomic_write(path, body, fsync=False)  # derived: install writes it again
        except OSError as exc:
            raise StateError(f"cannot write the agent definition ({exc.strerror or exc})", file=path,
                             fix="check the permissions of .qwen/agents") from exc
        out["written"].append(path)
    out["removed"] = remove_agent_definitions(project, keep=wanted)
    return out


def remove_agent_definitions(project: str, keep: set[str] | None = None) -> list[str]:
    """Remove the agent definitions tierwise wrote (the user's own are never touched)."""
    from tierwise.clients.qwen import agents as qwen_agents

    folder = qwen_agents.agents_dir(project)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    removed = []
    for file_name in names:
        if not file_name.endswith(".md") or file_name[:-3] in (keep or set()):
            continue
        path = os.path.join(folder, file_name)
        if qwen_agents.read_generated(path) is None:
            continue
        try:
            os.unlink(path)
        except OSError as exc:
            raise StateError(f"cannot remove the agent definition ({exc.strerror or exc})", file=path,
                             fix="check the permissions of .qwen/agents") from exc
        removed.append(path)
    return removed


def write_inline_enforcement(project: str) -> dict[str, Any]:
    """Pin the ``model:`` of the skills the project runs inline with ``enforce:
    fork`` at the tier decided now (budget and config files), unpin the rest
    (``clients/qwen/pins.py``); returns what was done."""
    from tierwise.clients.qwen import pins
    from tierwise.hot import cache
    from tierwise.hot.ledger import budget, connection

    compiled = cache.load(project, PLATFORM)
    conn = connection.connect()
    try:
        state = budget.state(conn, compiled["config"], None, None, project)
    finally:
        conn.close()
    return pins.sync(compiled, state)


def remove_inline_enforcement(project: str) -> list[str]:
    """Remove every pinned ``model:`` line tierwise wrote (each file as it was)."""
    from tierwise.clients.qwen import pins

    return pins.remove_all(project)
