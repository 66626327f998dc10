"""Write tierwise's hook entries into a project's client settings, and take them out.

``install(project, platform)`` merges entries into ``.claude/settings.json`` /
``.qwen/settings.json``: other keys and other hooks stay as they are, running
it twice changes nothing, and the first change leaves a backup
(``settings.json.tierwise-backup``). ``uninstall`` removes exactly the entries
whose command runs ``tierwise hook`` (``-m tierwise hook EVENT``, a
``tierwise hook EVENT`` script, or the plugin launcher ``hooks/run.py EVENT``).

Matchers name only the skill, subagent and file-write tools in both clients'
spellings, so a Read or Bash call starts no tierwise process. Timeouts are in
seconds for Claude Code and milliseconds for Qwen Code (PLATFORMS.md).

Cold module (CLI only).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from typing import Any

from tierwise.errors import InputError, StateError, UsageError

SKILL_AGENT = "^(Skill|skill|Agent|agent|Task|task)$"
# Claude Code: Write, Edit, MultiEdit. Qwen Code 0.15.10: write_file, edit (legacy: replace).
WRITE_TOOLS = "Write|Edit|MultiEdit|write_file|edit|replace"
POST_MATCHER = f"^(Skill|skill|Agent|agent|Task|task|{WRITE_TOOLS})$"

# event -> (matcher or None, timeout in seconds)
EVENTS: dict[str, tuple[str | None, int]] = {
    "SessionStart": (None, 30),
    "UserPromptSubmit": (None, 10),
    "PreToolUse": (SKILL_AGENT, 10),
    "PostToolUse": (POST_MATCHER, 15),
    "PostToolUseFailure": (SKILL_AGENT, 10),
    "SubagentStop": (None, 15),
    "Stop": (None, 30),
    "SessionEnd": (None, 30),
}

PLATFORM_DIRS = {"claude": ".claude", "qwen": ".qwen"}
BACKUP_SUFFIX = ".tierwise-backup"

# A command is ours when it runs `tierwise hook EVENT` (module or script), the
# hook entry directly, or the plugin launcher.
_OURS = re.compile(
    r"""(?:^|[\s"'/\\])(?:-m\s+tierwise|tierwise(?:\.exe)?["']?)\s+hook\s+[A-Za-z]+"""
    r"""|tierwise\.hooks\.entry import run; run\(\)["']?\s+[A-Za-z]+"""
    r"""|[/\\]hooks[/\\]run\.py["']?\s+[A-Za-z]+"""
)


def is_tierwise_command(command: object) -> bool:
    return isinstance(command, str) and bool(_OURS.search(command))


HOOK_ENTRY = "from tierwise.hooks.entry import run; run()"


def hook_command(event: str, client: str, python: str | None = None) -> str:
    """``"<python>" -P -c "<entry>" EVENT --client C``, quoted for the shell.

    The same as ``tierwise hook EVENT`` without runpy's start-up cost; ``-P``
    keeps the project directory off ``sys.path`` so a file there cannot shadow
    a module the hook imports."""
    exe = python or sys.executable
    return f"{shlex.quote(exe)} -P -c {shlex.quote(HOOK_ENTRY)} {event} --client {client}"


def timeout_for(client: str, seconds: int) -> int:
    return seconds * 1000 if client == "qwen" else seconds


def settings_path(project: str, client: str) -> str:
    return os.path.join(project, PLATFORM_DIRS[client], "settings.json")


def _load(path: str) -> dict[str, Any]:
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the settings file ({exc})", file=path, fix="check its permissions and encoding") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(
            f"the settings file is not valid JSON ({exc})",
            file=path,
            fix="fix the JSON (tierwise does not overwrite a file it cannot parse)",
        ) from exc
    if not isinstance(data, dict):
        raise InputError("expected a JSON object at the top level", file=path, fix="wrap the settings in {...}")
    if "hooks" in data and not isinstance(data["hooks"], dict):
        raise InputError(
            "expected an object mapping event names to hook groups",
            file=path,
            key="hooks",
            fix='make "hooks" an object such as {"PreToolUse": [...]}',
        )
    return data


def _write(path: str, data: dict[str, Any], original: str | None) -> str | None:
    """Write ``data``; back up the original once. Returns the backup path when one was made."""
    backup = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if original is not None and not os.path.exists(path + BACKUP_SUFFIX):
            with open(path + BACKUP_SUFFIX, "w", encoding="utf-8") as fh:
                fh.write(original)
            backup = path + BACKUP_SUFFIX
        tmp = f"{path}.tierwise-tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise StateError(f"cannot write the settings file ({exc.strerror or exc})", file=path, fix="check permissions") from exc
    return backup


def _strip_ours(hooks: dict[str, Any]) -> int:
    """Remove our commands from every group; drop groups left empty. Returns how many went."""
    removed = 0
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                inner = [h for h in group["hooks"] if not (isinstance(h, dict) and is_tierwise_command(h.get("command")))]
                removed += len(group["hooks"]) - len(inner)
                if not inner:
                    continue
                if len(inner) != len(group["hooks"]):
                    group = dict(group, hooks=inner)
            kept_groups.append(group)
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    return removed


def desired_hooks(client: str, python: str | None = None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for event, (matcher, seconds) in EVENTS.items():
        group: dict[str, Any] = {}
        if matcher:
            group["matcher"] = matcher
        group["hooks"] = [
            {"type": "command", "command": hook_command(event, client, python), "timeout": timeout_for(client, seconds)}
        ]
        out[event] = [group]
    return out


def install_client(project: str, client: str, python: str | None = None) -> dict[str, Any]:
    """Merge tierwise's entries into one client's settings. Returns what happened."""
    path = settings_path(project, client)
    original = None
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            original = fh.read()
    data = _load(path)
    before = json.dumps(data, sort_keys=True)
    hooks = dict(data.get("hooks") or {})
    _strip_ours(hooks)
    for event, groups in desired_hooks(client, python).items():
        existing = hooks.get(event)
        hooks[event] = (existing if isinstance(existing, list) else []) + groups
    data["hooks"] = hooks
    changed = json.dumps(data, sort_keys=True) != before
    backup = _write(path, data, original) if changed else None
    return {"client": client, "settings": path, "changed": changed, "backup": backup, "events": list(EVENTS)}


def uninstall_client(project: str, client: str) -> dict[str, Any]:
    path = settings_path(project, client)
    if not os.path.exists(path):
        return {"client": client, "settings": path, "removed": 0, "changed": False}
    with open(path, encoding="utf-8", errors="replace") as fh:
        original = fh.read()
    data = _load(path)
    hooks = data.get("hooks")
    removed = 0
    if isinstance(hooks, dict):
        removed = _strip_ours(hooks)
        if not hooks:
            del data["hooks"]
    if removed:
        _write(path, data, original)
    return {"client": client, "settings": path, "removed": removed, "changed": bool(removed)}


def clients_for(platform: str) -> list[str]:
    if platform == "all":
        return ["claude", "qwen"]
    if platform in PLATFORM_DIRS:
        return [platform]
    raise UsageError(f"unknown platform {platform!r}", fix="use --platform claude, qwen or all")


def unloadable_skills(project: str, client: str) -> list[dict[str, str]]:
    """Skills under the client's project skill folder that the client would not load, with the fix."""
    skills_dir = os.path.join(project, PLATFORM_DIRS[client], "skills")
    if not os.path.isdir(skills_dir):
        return []
    from tierwise.frontmatter_check import check_text

    platform = "qwen_code" if client == "qwen" else "claude_code"
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


# -- plugin / extension manifests (generated; tests/hooks/test_plugin.py checks they are current) --

PLUGIN_COMMAND = 'python3 "${CLAUDE_PLUGIN_ROOT}/hooks/run.py" '


def plugin_hooks(client: str) -> dict[str, Any]:
    """Hooks for hooks/hooks.json (client "claude") or qwen-extension.json ("qwen").

    hooks/hooks.json declares no timeouts: Qwen Code copies a Claude plugin's
    timeouts without converting seconds to milliseconds, and both clients'
    defaults (600 s, 60 000 ms) are safe. It names no client either: the
    launcher recognises Qwen Code by its environment.
    """
    out: dict[str, Any] = {}
    for event, (matcher, seconds) in EVENTS.items():
        hook: dict[str, Any] = {"type": "command", "command": PLUGIN_COMMAND + event}
        if client == "qwen":
            hook["command"] += " --client qwen"
            hook["timeout"] = timeout_for("qwen", seconds)
        group: dict[str, Any] = {}
        if matcher:
            group["matcher"] = matcher
        group["hooks"] = [hook]
        out[event] = [group]
    return out


def manifests(version: str) -> dict[str, Any]:
    """Relative path -> JSON content of every plugin/extension manifest."""
    author = {"name": "tierwise developers"}
    description = "Skill-level model routing and token budgets for coding agents"
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
        "hooks/hooks.json": {"description": "tierwise routing hooks", "hooks": plugin_hooks("claude")},
        "qwen-extension.json": {
            "name": "tierwise",
            "version": version,
            "description": description,
            "hooks": plugin_hooks("qwen"),
        },
    }


def write_manifests(root: str) -> list[str]:
    from tierwise import __version__

    written = []
    for rel, content in manifests(__version__).items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    return written
