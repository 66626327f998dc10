"""What the evidence commands share: the resolved config, known skills, input files."""

from __future__ import annotations

import sys
from typing import Any

from tierwise.errors import InputError

MAX_INPUT_BYTES = 64 * 1024 * 1024


def resolve_config(platform: str) -> dict[str, Any]:
    from tierwise import config, paths

    return config.resolve(paths.project_dir(), platform)


def known_skills(platform: str, cfg: dict[str, Any]) -> set[str]:
    from tierwise import paths, skills

    return set(skills.discover(paths.project_dir(), platform, cfg)["skills"])


def read_input(path: str) -> tuple[str, str]:
    """(text, display name) of FILE or ``-`` (stdin)."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        name = "<stdin>"
    else:
        name = path
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_INPUT_BYTES + 1)
        except FileNotFoundError:
            raise InputError("file not found", file=path, fix="check the path") from None
        except IsADirectoryError:
            raise InputError("expected a file, found a directory", file=path, fix="point at the JSONL file") from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", file=path, fix="check the file's permissions") \
                from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"larger than the {MAX_INPUT_BYTES // 1024 // 1024} MiB limit", file=name,
                         fix="split the file and record the parts one by one")
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 (byte {exc.start}, line {line})", file=name, fix="save the file as UTF-8") \
            from None


def emit_json(payload: Any) -> None:
    import json

    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=False) + "\n")


def console() -> Any:
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False)
