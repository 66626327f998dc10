"""File helpers shared by the keeper's commands: JSON inputs, text and JSON outputs
(printing goes through ``tierwise.output``)."""

from __future__ import annotations

import json
from typing import Any

from tierwise.hot.errors import InputError, StateError
from tierwise.keeper.spec import read_text
from tierwise.hot.fileio import atomic_write


def load_json(path: str, what: str) -> dict[str, Any]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"expected a JSON {what} (line {exc.lineno}: {exc.msg})", file=path,
                         fix=f"point at a {what} written by tierwise") from None
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object ({what}), got {type(data).__name__}", file=path,
                         fix=f"point at a {what} written by tierwise")
    return data


def write_text(path: str, text: str) -> None:
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise StateError(f"cannot write the file ({exc.strerror})", file=path,
                         fix="check the directory exists and is writable") from None


def write_json(path: str, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")

