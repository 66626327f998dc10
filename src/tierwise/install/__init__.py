"""Write tierwise's hook entries into a project's client settings, and take them out.

``install(project, clients)`` merges entries into ``.claude/settings.json`` /
``.qwen/settings.json``: other keys and other hooks stay as they are, running
it twice changes nothing, and the first change leaves a backup
(``settings.json.tierwise-backup``). Every target is read and checked before
any is written, so a file tierwise cannot rewrite safely (not JSON, JSON with
comments, a wrong shape) stops the command with nothing written anywhere. A
symlinked settings file is written through to its target, in the file's own
indentation, line endings and permissions.

``uninstall`` removes exactly tierwise's own entries (see
:func:`is_tierwise_command`) and gives the file back: an event key or the
``hooks`` key goes only when tierwise emptied it and the backup shows it was
not there before.

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
import stat
import sys
from dataclasses import dataclass, field
from typing import Any

from tierwise.hot.errors import ConfigError, InputError, StateError, UsageError

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
MAX_SETTINGS_BYTES = 16 * 1024 * 1024

HOOK_ENTRY = "from tierwise.hooks.entry import run; run()"
PLUGIN_LAUNCHER = "${CLAUDE_PLUGIN_ROOT}/hooks/run.py"
_EVENT_NAME = re.compile(r"[A-Za-z]+")


def _event_and_client(rest: list[str]) -> bool:
    """``EVENT`` or ``EVENT --client claude|qwen`` and nothing else."""
    if not rest or not _EVENT_NAME.fullmatch(rest[0]):
        return False
    tail = rest[1:]
    return not tail or (len(tail) == 2 and tail[0] == "--client" and tail[1] in PLATFORM_DIRS)


def is_tierwise_command(command: object) -> bool:
    """True only for the command forms tierwise itself writes or wrote:

    - ``"<python>" -P -c 'from tierwise.hooks.entry import run; run()' EVENT --client C`` (now);
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
    if argv[1:4] == ["-P", "-c", HOOK_ENTRY]:
        return _event_and_client(argv[4:])
    if argv[1:4] == ["-m", "tierwise", "hook"]:
        return _event_and_client(argv[4:])
    if re.split(r"[/\\]", argv[0])[-1] in ("tierwise", "tierwise.exe") and argv[1] == "hook":
        return _event_and_client(argv[2:])
    if argv[1] == PLUGIN_LAUNCHER:
        return _event_and_client(argv[2:])
    return False


def hook_command(event: str, client: str, python: str | None = None) -> str:
    """``"<python>" -P -c "<entry>" EVENT --client C``, quoted for the shell.

    The same as ``tierwise hook EVENT`` without runpy's start-up cost; ``-P``
    keeps the project directory off ``sys.path`` so a file there cannot shadow
    a module the hook imports."""
    exe = python or sys.executable
    return f"{shlex.quote(exe)} -P -c {shlex.quote(HOOK_ENTRY)} {event} --client {client}"


STATUSLINE_ENTRY = "from tierwise.ledger.statusline import run; run()"


def statusline_command(client: str, python: str | None = None) -> str:
    """``"<python>" -P -c "<statusline entry>" --client C``: ``tierwise statusline`` without argparse."""
    exe = python or sys.executable
    return f"{shlex.quote(exe)} -P -c {shlex.quote(STATUSLINE_ENTRY)} --client {client}"


def _client_only(tail: list[str]) -> bool:
    return not tail or (len(tail) == 2 and tail[0] == "--client" and tail[1] in PLATFORM_DIRS)


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


def timeout_for(client: str, seconds: int) -> int:
    return seconds * 1000 if client == "qwen" else seconds


def settings_path(project: str, client: str) -> str:
    return os.path.join(project, PLATFORM_DIRS[client], "settings.json")


# -- reading ---------------------------------------------------------------------------------


def strip_json_comments(text: str) -> str:
    """Port of npm ``strip-json-comments`` 3.x, which Qwen Code runs on settings.json
    before ``JSON.parse``: ``//`` and ``/* */`` comments outside strings become spaces."""
    out: list[str] = []
    in_string = False
    comment: str | None = None
    offset = 0
    i = 0
    n = len(text)

    def blank(a: int, b: int) -> str:
        return re.sub(r"\S", " ", text[a:b])

    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if comment is None and ch == '"':
            j = i - 1
            backslashes = 0
            while j >= 0 and text[j] == "\\":
                j -= 1
                backslashes += 1
            if backslashes % 2 == 0:
                in_string = not in_string
        if in_string:
            i += 1
            continue
        if comment is None and ch + nxt == "//":
            out.append(text[offset:i])
            offset = i
            comment = "single"
            i += 2
            continue
        if comment == "single" and ch + nxt == "\r\n":
            i += 1
            comment = None
            out.append(blank(offset, i))
            offset = i
            i += 1
            continue
        if comment == "single" and ch == "\n":
            comment = None
            out.append(blank(offset, i))
            offset = i
        elif comment is None and ch + nxt == "/*":
            out.append(text[offset:i])
            offset = i
            comment = "multi"
            i += 2
            continue
        elif comment == "multi" and ch + nxt == "*/":
            i += 1
            comment = None
            out.append(blank(offset, i + 1))
            offset = i + 1
        i += 1
    out.append(blank(offset, n) if comment else text[offset:])
    return "".join(out)


@dataclass
class _Style:
    """How the user's file is laid out, so a rewrite changes only what it must."""

    indent: int | str = 2
    newline: str = "\n"
    final_newline: bool = True
    bom: bool = False
    ensure_ascii: bool = False

    def dump(self, data: dict[str, Any]) -> str:
        text = json.dumps(data, indent=self.indent, ensure_ascii=self.ensure_ascii)
        if self.final_newline:
            text += "\n"
        if self.newline != "\n":
            text = text.replace("\n", self.newline)  # JSON strings hold no raw newline
        return ("\ufeff" if self.bom else "") + text


_INDENT = re.compile(r"\n([ \t]+)\S")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _style_of(text: str) -> _Style:
    style = _Style()
    style.bom = text.startswith("\ufeff")
    body = text[1:] if style.bom else text
    if "\r\n" in body:
        style.newline = "\r\n"
        body = body.replace("\r\n", "\n")
    if body.strip():
        style.final_newline = body.endswith("\n")
    m = _INDENT.search(body)
    if m:
        unit = m.group(1)
        style.indent = len(unit) if set(unit) == {" "} else unit
    # json.dumps' default: non-ASCII written as \uXXXX escapes
    style.ensure_ascii = body.isascii() and any(int(h, 16) >= 0x80 for h in _UNICODE_ESCAPE.findall(body))
    return style


@dataclass
class _Settings:
    client: str
    path: str  # as the project names it
    real: str  # where it is read and written (a symlink is written through)
    raw: bytes | None  # the file as it is, None when there is none
    data: dict[str, Any]
    style: _Style
    commented: bool = False  # parsed only after stripping comments: must not be rewritten
    before_keys: dict[str, Any] = field(default_factory=dict)


def _read(project: str, client: str) -> _Settings:
    path = settings_path(project, client)
    real = os.path.realpath(path)
    if os.path.islink(real):  # realpath stops inside a symlink loop
        raise InputError("the settings file is a symlink loop", file=path,
                         fix="point the link at a real file, or remove it")
    if not os.path.exists(real):
        return _Settings(client, path, real, None, {}, _Style())
    from tierwise.hot import fileio

    try:
        raw = fileio.read_bytes(real, limit=MAX_SETTINGS_BYTES)  # a regular file: a FIFO would hang install
        text = raw.decode("utf-8")
    except fileio.FileTooLargeError as exc:
        raise InputError(f"the settings file is {exc.strerror}", file=path,
                         fix="check the path; settings files are a few KiB") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the settings file ({exc})", file=path, fix="check its permissions and encoding") from exc
    style = _style_of(text)
    body = text[1:] if style.bom else text
    commented = False
    if not body.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except ValueError as exc:
            try:
                data = json.loads(strip_json_comments(body))
            except ValueError:
                raise InputError(
                    f"the settings file is not valid JSON ({exc})",
                    file=path,
                    fix="fix the JSON (tierwise does not overwrite a file it cannot parse)",
                ) from exc
            commented = True
    if not isinstance(data, dict):
        raise InputError("expected a JSON object at the top level", file=path, fix="wrap the settings in {...}")
    if "hooks" in data and not isinstance(data["hooks"], dict):
        raise InputError(
            "expected an object mapping event names to hook groups",
            file=path,
            key="hooks",
            fix='make "hooks" an object such as {"PreToolUse": [...]}',
        )
    return _Settings(client, path, real, raw, data, style, commented)


def _comments_error(s: _Settings, fix: str) -> ConfigError:
    allowed = ", which Qwen Code allows" if s.client == "qwen" else ""
    return ConfigError(
        f"the settings file has comments (// or /* */){allowed}; tierwise writes plain JSON, so rewriting "
        "it would drop your comments: nothing was changed (in any settings file)",
        file=s.path,
        fix=fix,
    )


def _there_before(s: _Settings, unchanged: bool) -> tuple[bool, set[str]]:
    """``(hooks key was there, events that were there)`` before tierwise first changed the
    file, from the backup. Without one, ``unchanged`` says whether the file as it is now
    is that original (install: it is about to become the backup); otherwise (tierwise
    created the file, or the backup was deleted) nothing counts as the user's."""
    raw = s.raw if unchanged else None
    backup = s.real + BACKUP_SUFFIX
    if os.path.exists(backup):
        try:
            with open(backup, "rb") as fh:
                raw = fh.read()
        except OSError:
            return True, set(s.data.get("hooks") or {})  # no trustworthy record: keep what is there
    if raw is None:
        return False, set()
    try:
        text = raw.decode("utf-8").lstrip("\ufeff")
        data = json.loads(strip_json_comments(text)) if text.strip() else {}
    except ValueError:
        return True, set(s.data.get("hooks") or {})  # no trustworthy record: keep what is there
    if not isinstance(data, dict):
        return False, set()
    hooks = data.get("hooks")
    return "hooks" in data, set(hooks) if isinstance(hooks, dict) else set()


def _had_key(s: _Settings, key: str) -> bool:
    """Whether the file had top-level ``key`` before tierwise first changed it (from the
    backup; without one tierwise created the file, or nothing tells: not the user's)."""
    backup = s.real + BACKUP_SUFFIX
    if not os.path.exists(backup):
        return False
    try:
        with open(backup, "rb") as fh:
            text = fh.read().decode("utf-8").lstrip("\ufeff")
        data = json.loads(strip_json_comments(text)) if text.strip() else {}
    except (OSError, ValueError):
        return True  # no trustworthy record: keep what is there
    return isinstance(data, dict) and key in data


# -- the status line -----------------------------------------------------------------------------
# Claude Code reads "statusLine" at the top level, Qwen Code (0.15.10) "ui.statusLine"; both
# take {"type": "command", "command": ...} and pipe their status JSON to it.


def _statusline_holder(s: _Settings, data: dict[str, Any], create: bool) -> dict[str, Any] | None:
    if s.client == "claude":
        return data
    ui = data.get("ui")
    if ui is None and create:
        ui = data["ui"] = {}
    if ui is not None and not isinstance(ui, dict):
        raise InputError(f"expected an object, got {type(ui).__name__}", file=s.path, key="ui",
                         fix='make "ui" an object such as {"statusLine": {...}} (tierwise does not overwrite it)')
    return ui


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
    if s.client == "qwen" and not holder and not _had_key(s, "ui"):
        del data["ui"]
    return True


# -- writing ---------------------------------------------------------------------------------


def _write(s: _Settings, data: dict[str, Any], keep_original: bool = True) -> str | None:
    """Write ``data`` to the real file (atomically, same permissions); back up the
    original once (``keep_original``: install; an uninstall finds either the backup
    made then, or a file tierwise created). Returns the backup path when one was made."""
    from tierwise.hot.fileio import atomic_write

    real = s.real
    backup = None
    try:
        if keep_original and s.raw is not None and not os.path.lexists(real + BACKUP_SUFFIX):
            # the original's permissions: a settings file may hold secrets (env)
            atomic_write(real + BACKUP_SUFFIX, s.raw, exclusive=True, mode=stat.S_IMODE(os.stat(real).st_mode))
            backup = real + BACKUP_SUFFIX
        atomic_write(real, s.style.dump(data))  # keeps the file's permissions
    except OSError as exc:
        raise StateError(f"cannot write the settings file ({exc.strerror or exc})", file=s.path, fix="check permissions") from exc
    return backup


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
            line = {"statusLine": {"type": "command", "command": statusline_command(s.client, python)}}
            wanted.update(line if s.client == "claude" else {"ui": line})
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
    for event in EVENTS:
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
        if event not in EVENTS and event not in had_events:
            del hooks[event]
    for event, groups in desired.items():
        hooks[event] = list(hooks.get(event) or []) + groups
    data["hooks"] = hooks
    status = _plan_statusline(s, data, python) if statusline else None
    return data, status


def _plan_uninstall(s: _Settings) -> tuple[dict[str, Any], int, bool]:
    if s.commented:
        ours = _ours_in(s.data)
        line = s.data if s.client == "claude" else s.data.get("ui")
        line = line.get("statusLine") if isinstance(line, dict) else None
        if isinstance(line, dict) and is_tierwise_statusline(line.get("command")):
            ours.append(("statusLine" if s.client == "claude" else "ui.statusLine", str(line.get("command"))))
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
            statusline: bool = False) -> list[dict[str, Any]]:
    """Merge tierwise's entries (and, with ``statusline``, its status line) into each
    client's settings. Every file is read and checked first: when one cannot be
    rewritten safely, nothing is written."""
    settings = [_read(project, client) for client in clients]
    _check_distinct(settings)
    plans = [(s, *_plan_install(s, python, statusline)) for s in settings]
    results = []
    for s, data, status in plans:
        changed = s.raw is None or not _same(data, s.data)
        backup = _write(s, data) if changed else None
        result: dict[str, Any] = {"client": s.client, "settings": s.path, "changed": changed, "backup": backup,
                                  "events": list(EVENTS), "statusline": status}
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


def uninstall(project: str, clients: list[str]) -> list[dict[str, Any]]:
    """Remove exactly tierwise's entries (hooks and status line) from each client's
    settings (all checked first). A settings file tierwise created and that holds
    nothing else afterwards is removed, with its folder when that is left empty."""
    settings = [_read(project, client) for client in clients]
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
    from tierwise.hot.fileio import atomic_write
    from tierwise.clients.qwen.frontmatter import normalize_content, parse as qwen_parse
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


def clients_for(platform: str) -> list[str]:
    if platform == "all":
        return ["claude", "qwen"]
    if platform in PLATFORM_DIRS:
        return [platform]
    raise UsageError(f"unknown platform {platform!r}", fix="use --platform claude, qwen or all")


CLIENT_NAMES = {"claude": "Claude Code", "qwen": "Qwen Code"}
_MARKERS = {"claude": (".claude", "CLAUDE.md"), "qwen": (".qwen", "QWEN.md")}


def project_clients(project: str) -> list[str]:
    """The clients a project shows it uses: ``.claude/`` or ``CLAUDE.md``, ``.qwen/`` or ``QWEN.md``."""
    return [c for c, names in _MARKERS.items() if any(os.path.exists(os.path.join(project, n)) for n in names)]


def detect_clients(project: str, home: str | None = None, path: str | None = None) -> tuple[list[str], str]:
    """The clients ``install`` sets up when no ``--platform`` is given, and why.

    The project's own markers first (``.claude/`` or ``CLAUDE.md``, ``.qwen/`` or
    ``QWEN.md``): a Claude-only project gets no Qwen settings. Without any, the
    clients this user has (``claude`` / ``qwen`` on PATH, or ``~/.claude`` /
    ``~/.qwen``). Without those either, Claude Code."""
    import shutil

    found = project_clients(project)
    if found:
        seen = [n for c in found for n in _MARKERS[c] if os.path.exists(os.path.join(project, n))]
        return found, f"the project has {' and '.join(seen)}"
    home = home if home is not None else os.path.expanduser("~")
    config_dirs = {"claude": os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(home, ".claude"),
                   "qwen": os.path.join(home, ".qwen")}
    why: list[str] = []
    for client in PLATFORM_DIRS:
        if shutil.which(client, path=path):
            why.append(f"`{client}` is on PATH")
            found.append(client)
        elif os.path.isdir(config_dirs[client]):
            why.append(f"{config_dirs[client]} exists")
            found.append(client)
    if found:
        return found, "the project names no client, and " + " and ".join(why)
    return ["claude"], "no client found (no .claude/ or .qwen/ in the project, no claude or qwen on PATH)"


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
    from tierwise.hot.fileio import atomic_write

    written = []
    for rel, content in manifests(__version__).items():
        path = os.path.join(root, rel)
        atomic_write(path, json.dumps(content, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written
