"""Reading and writing a client's settings.json for the installer: the file's
own style (indentation, line endings, BOM, permissions) is kept, a symlink is
written through, a backup is made before the first change, and a file tierwise
cannot rewrite safely (not JSON, JSON with comments, a wrong shape) is an error
naming the file and the fix. Client-independent: where the file is comes from
``tierwise.clients.<name>.install``.

Cold module (CLI only).
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from tierwise.hot.errors import ConfigError, InputError, StateError
from tierwise.install.clients import client_parts

BACKUP_SUFFIX = ".tierwise-backup"
MAX_SETTINGS_BYTES = 16 * 1024 * 1024


def settings_path(project: str, client: str, user: bool = False) -> str:
    """The file tierwise's hook entries go in: ``<project>/<SETTINGS_DIR>/<SETTINGS_FILE>``
    (``settings.json`` unless the client names another), or with ``user`` the
    client's user-level file (``project`` is then the home directory)."""
    parts = client_parts(client)
    name = str(getattr(parts, "SETTINGS_FILE", "settings.json"))
    if user:
        return os.path.join(str(parts.user_config_dir(project)), name)
    return os.path.join(project, parts.SETTINGS_DIR, name)


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


def _read(project: str, client: str, user: bool = False) -> _Settings:
    path = settings_path(project, client, user)
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
    allowed = client_parts(s.client).COMMENTS_NOTE
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


