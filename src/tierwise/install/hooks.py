"""tierwise's hook entries in a client's settings: which events and matchers,
the command each entry runs, recognising tierwise's own commands (today's and
earlier installs' forms), and merging them into / taking them out of the
settings (``install`` / ``uninstall``, with the status line of ``install.statusline``).

Matchers name only the skill, subagent and file-write tools in both clients'
spellings (a Claude plugin also runs in Qwen Code), so a Read or Bash call
starts no tierwise process. Timeouts are in the client's unit
(``tierwise.clients.<name>.install.timeout``).

Cold module (CLI only).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from typing import Any

from tierwise.clients import CLIENTS
from tierwise.hot.errors import InputError, StateError, UsageError
from tierwise.install.clients import client_parts
from tierwise.install.settings import BACKUP_SUFFIX, _comments_error, _read, _Settings, _there_before, _write
from tierwise.install.statusline import (
    _plan_statusline,
    _remove_statusline,
    is_tierwise_statusline,
    statusline_key,
    statusline_parent,
    statusline_snippet,
)

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

# What installed hooks run. ``tierwise.hooks.entry`` is a stable name kept for them
# (it forwards to ``tierwise.hot.hooks.entry``); settings written by any version name it.
HOOK_ENTRY = "from tierwise.hooks.entry import run; run()"
# The installed form: ``python -S -P -c HOOK_LAUNCH FOLDER EVENT --client C``. ``-S`` skips ``site``
# at start-up (the .pth files, the site-packages scan: ~1 ms of every hook process); the command puts
# FOLDER, the one holding the tierwise package, on sys.path itself, after the standard library. The
# hot path needs nothing else (hot/cold.py runs ``site`` when a hook takes the door to cold code).
HOOK_LAUNCH = "import sys; sys.path.append(sys.argv.pop(1)); " + HOOK_ENTRY
PLUGIN_LAUNCHER = "${CLAUDE_PLUGIN_ROOT}/hooks/run.py"
_EVENT_NAME = re.compile(r"[A-Za-z]+")


def _event_and_client(rest: list[str]) -> bool:
    """``EVENT`` or ``EVENT --client claude|qwen`` and nothing else."""
    if not rest or not _EVENT_NAME.fullmatch(rest[0]):
        return False
    tail = rest[1:]
    return not tail or (len(tail) == 2 and tail[0] == "--client" and tail[1] in CLIENTS)


def is_tierwise_command(command: object) -> bool:
    """True only for the command forms tierwise itself writes or wrote:

    - ``"<python>" -S -P -c '<HOOK_LAUNCH>' FOLDER EVENT --client C`` (now);
    - ``"<python>" -P -c 'from tierwise.hooks.entry import run; run()' EVENT --client C`` (earlier
      installs, and now for an interpreter other than the one running install);
    - ``"<python>" -m tierwise hook EVENT [--client C]`` and ``[path/]tierwise hook EVENT``
      (earlier installs);
    - ``<python> "${CLAUDE_PLUGIN_ROOT}/hooks/run.py" EVENT [--client C]`` (the plugin launcher).

    Anything else (``bash ~/hooks/run.py PreToolUse``, ``mytierwise hook X``, a
    form with more shell after it) is the user's and is never touched."""
    if not isinstance(command, str):
        return False
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    if len(argv) < 2:
        return False
    if argv[1:5] == ["-S", "-P", "-c", HOOK_LAUNCH] and len(argv) > 5:
        return _event_and_client(argv[6:])
    if argv[1:4] == ["-P", "-c", HOOK_ENTRY]:
        return _event_and_client(argv[4:])
    if argv[1:4] == ["-m", "tierwise", "hook"]:
        return _event_and_client(argv[4:])
    if re.split(r"[/\\]", argv[0])[-1] in ("tierwise", "tierwise.exe") and argv[1] == "hook":
        return _event_and_client(argv[2:])
    if argv[1] == PLUGIN_LAUNCHER:
        return _event_and_client(argv[2:])
    return False


def package_folder() -> str:
    """The folder holding this tierwise package (site-packages, or ``src/`` of an
    editable install): what an installed hook puts on ``sys.path``."""
    import tierwise

    return os.path.dirname(os.path.dirname(os.path.abspath(tierwise.__file__)))


def hook_argv(python: str | None = None, package_dir: str | None = None) -> list[str]:
    """The interpreter and options of an installed hook, before ``EVENT --client C``.

    ``-S -P -c HOOK_LAUNCH FOLDER`` for the interpreter running tierwise (or when
    ``package_dir`` names where ``python`` finds it): no ``site`` at start-up. For
    another interpreter, whose tierwise may live anywhere, ``-P -c HOOK_ENTRY``
    (``site`` finds it). ``-P`` keeps the project directory off ``sys.path``, so a
    file there cannot shadow a module the hook imports. Both are ``tierwise hook``
    without runpy's start-up cost."""
    exe = python or sys.executable
    if package_dir is None and os.path.abspath(exe) == os.path.abspath(sys.executable):
        package_dir = package_folder()
    if package_dir is None:
        return [exe, "-P", "-c", HOOK_ENTRY]
    return [exe, "-S", "-P", "-c", HOOK_LAUNCH, package_dir]


def hook_command(event: str, client: str, python: str | None = None, package_dir: str | None = None) -> str:
    """The installed hook command (:func:`hook_argv` + ``EVENT --client C``), quoted for the shell."""
    return " ".join(shlex.quote(a) for a in [*hook_argv(python, package_dir), event, "--client", client])


def timeout_for(client: str, seconds: int) -> int:
    timeout: int = client_parts(client).timeout(seconds)
    return timeout


# -- merging ---------------------------------------------------------------------------------


def _strip_ours(hooks: dict[str, Any]) -> tuple[int, list[str]]:
    """Remove our commands from every group; drop groups our removal left empty.

    Returns how many went and the events our removal left empty (their keys stay,
    as ``[]``: the caller decides whether the key goes)."""
    removed = 0
    emptied: list[str] = []
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        removed_here = 0
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                inner = [h for h in group["hooks"] if not (isinstance(h, dict) and is_tierwise_command(h.get("command")))]
                gone = len(group["hooks"]) - len(inner)
                if gone:
                    removed_here += gone
                    if not inner:
                        continue
                    group = dict(group, hooks=inner)
            kept_groups.append(group)
        if removed_here:
            removed += removed_here
            hooks[event] = kept_groups
            if not kept_groups:
                emptied.append(event)
    return removed, emptied


def client_events(client: str) -> dict[str, tuple[str | None, int]]:
    """The events (matcher, timeout in seconds) tierwise hooks into for ``client``:
    ``EVENTS`` unless the client's installer parts name its own (``HOOK_EVENTS``)."""
    own = getattr(client_parts(client), "HOOK_EVENTS", None) if client in CLIENTS else None
    return dict(own) if isinstance(own, dict) else EVENTS


def desired_hooks(client: str, python: str | None = None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for event, (matcher, seconds) in client_events(client).items():
        group: dict[str, Any] = {}
        if matcher:
            group["matcher"] = matcher
        group["hooks"] = [
            {"type": "command", "command": hook_command(event, client, python), "timeout": timeout_for(client, seconds)}
        ]
        out[event] = [group]
    return out


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(data))
    return copied


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _ours_in(data: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    hooks = data.get("hooks")
    for event, groups in (hooks.items() if isinstance(hooks, dict) else []):
        for group in groups if isinstance(groups, list) else []:
            inner = group.get("hooks") if isinstance(group, dict) else None
            for h in inner if isinstance(inner, list) else []:
                if isinstance(h, dict) and is_tierwise_command(h.get("command")):
                    out.append((str(event), str(h["command"])))
    return out


def _check_distinct(settings: list[_Settings]) -> None:
    seen: dict[str, _Settings] = {}
    for s in settings:
        other = seen.get(s.real)
        if other is not None:
            raise UsageError(
                f"{other.path} and {s.path} are the same file ({s.real}); one file cannot hold both clients' "
                "entries (Claude Code counts hook timeouts in seconds, Qwen Code in milliseconds)",
                fix="give each client its own settings file, or install with --platform claude or --platform qwen",
            )
        seen[s.real] = s


def _plan_install(s: _Settings, python: str | None, statusline: bool = False) -> tuple[dict[str, Any], str | None]:
    desired = desired_hooks(s.client, python)
    if s.commented:
        wanted: dict[str, Any] = {"hooks": desired}
        if statusline:
            wanted.update(statusline_snippet(s.client, python))
        snippet = json.dumps(wanted, indent=2)
        old = _ours_in(s.data)
        replace = (" and delete the older tierwise entries there (" + ", ".join(sorted({e for e, _ in old})) + ")"
                   if old else "")
        raise _comments_error(
            s,
            "remove the comments and run `tierwise install` again, or keep them and add these entries to the "
            f'"hooks" object by hand, next to your own{replace}:\n{snippet}',
        )
    hooks_value = s.data.get("hooks")
    for event in client_events(s.client):
        if isinstance(hooks_value, dict) and event in hooks_value and not isinstance(hooks_value[event], list):
            raise InputError(
                f"expected a list of hook groups, got {type(hooks_value[event]).__name__}",
                file=s.path,
                key=f"hooks.{event}",
                fix=f'make "{event}" a list such as [{{"hooks": [...]}}] (tierwise does not overwrite it)',
            )
    data = _copy(s.data)
    hooks: dict[str, Any] = data.get("hooks") or {}
    _had_hooks, had_events = _there_before(s, unchanged=True)
    _removed, emptied = _strip_ours(hooks)
    for event in emptied:
        if event not in client_events(s.client) and event not in had_events:
            del hooks[event]
    for event, groups in desired.items():
        hooks[event] = list(hooks.get(event) or []) + groups
    data["hooks"] = hooks
    has_line = bool(getattr(client_parts(s.client), "HAS_STATUSLINE", True))
    status = (_plan_statusline(s, data, python) if has_line else "unsupported") if statusline else None
    return data, status


def _plan_uninstall(s: _Settings) -> tuple[dict[str, Any], int, bool]:
    if s.commented:
        ours = _ours_in(s.data)
        parent = statusline_parent(s.client)
        line = s.data if parent is None else s.data.get(parent)
        line = line.get("statusLine") if isinstance(line, dict) else None
        if isinstance(line, dict) and is_tierwise_statusline(line.get("command")):
            ours.append((statusline_key(s.client), str(line.get("command"))))
        if not ours:
            return s.data, 0, False
        listing = "\n".join(f"  {event}: {command}" for event, command in ours)
        raise _comments_error(
            s,
            "remove the comments and run `tierwise uninstall` again, or keep them and delete these "
            f"entries from \"hooks\" by hand:\n{listing}",
        )
    data = _copy(s.data)
    statusline = _remove_statusline(s, data)
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return data, 0, statusline
    removed, emptied = _strip_ours(hooks)
    if removed:
        had_hooks, had_events = _there_before(s, unchanged=False)
        for event in emptied:
            if event not in had_events:
                del hooks[event]
        if not hooks and not had_hooks:
            del data["hooks"]
    return data, removed, statusline


def install(project: str, clients: list[str], python: str | None = None,
            statusline: bool = False, user: bool = False) -> list[dict[str, Any]]:
    """Merge tierwise's entries (and, with ``statusline``, its status line) into each
    client's settings. Every file is read and checked first: when one cannot be
    rewritten safely, nothing is written. ``user``: the clients' user-level files
    (``project`` is then the home directory)."""
    settings = [_read(project, client, user) for client in clients]
    _check_distinct(settings)
    plans = [(s, *_plan_install(s, python, statusline)) for s in settings]
    results = []
    for s, data, status in plans:
        changed = s.raw is None or not _same(data, s.data)
        backup = _write(s, data) if changed else None
        result: dict[str, Any] = {"client": s.client, "settings": s.path, "changed": changed, "backup": backup,
                                  "events": list(client_events(s.client)), "statusline": status}
        if s.real != os.path.abspath(s.path):
            result["written_to"] = s.real
        results.append(result)
    return results


def _created_by_tierwise(s: _Settings, data: dict[str, Any]) -> bool:
    """Nothing is left but what tierwise created: the file (no backup of an original, so
    there was none) emptied by the uninstall, at its own path (not a symlink's target)."""
    return (not data and not os.path.lexists(s.real + BACKUP_SUFFIX)
            and os.path.abspath(s.path) == s.real and not os.path.islink(s.path))


def _remove_created(s: _Settings) -> None:
    try:
        os.unlink(s.real)
    except OSError as exc:
        raise StateError(f"cannot remove the settings file tierwise created ({exc.strerror or exc})", file=s.path,
                         fix="check permissions") from exc
    try:  # the client folder too, when that file was all it held
        os.rmdir(os.path.dirname(s.real))
    except OSError:
        pass


def uninstall(project: str, clients: list[str], user: bool = False) -> list[dict[str, Any]]:
    """Remove exactly tierwise's entries (hooks and status line) from each client's
    settings (all checked first). A settings file tierwise created and that holds
    nothing else afterwards is removed, with its folder when that is left empty."""
    settings = [_read(project, client, user) for client in clients]
    plans = []
    seen: set[str] = set()
    for s in settings:
        # one file for both clients: once
        data, removed, statusline = _plan_uninstall(s) if s.real not in seen else (s.data, 0, False)
        seen.add(s.real)
        plans.append((s, data, removed, statusline))
    results = []
    for s, data, removed, statusline in plans:
        deleted = False
        if removed or statusline:
            if _created_by_tierwise(s, data):
                _remove_created(s)
                deleted = True
            else:
                _write(s, data, keep_original=False)
        results.append({"client": s.client, "settings": s.path, "removed": removed, "statusline_removed": statusline,
                        "changed": bool(removed or statusline), "deleted": deleted, "existed": s.raw is not None})
    return results


def install_client(project: str, client: str, python: str | None = None) -> dict[str, Any]:
    """Merge tierwise's entries into one client's settings. Returns what happened."""
    return install(project, [client], python)[0]


def uninstall_client(project: str, client: str) -> dict[str, Any]:
    return uninstall(project, [client])[0]


