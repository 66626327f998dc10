"""What the evidence commands share: the resolved config, known skills, input files."""

from __future__ import annotations

import sys
from typing import Any

from tierwise.hot import fileio
from tierwise.hot.errors import InputError

MAX_INPUT_BYTES = 64 * 1024 * 1024


def resolve_config(platform: str) -> dict[str, Any]:
    from tierwise import config
    from tierwise.hot import paths

    return config.resolve(paths.project_dir(), platform)


def known_skills(platform: str, cfg: dict[str, Any]) -> set[str]:
    from tierwise.hot import paths
    from tierwise import skills

    return set(skills.discover(paths.project_dir(), platform, cfg)["skills"])


def read_input(path: str) -> tuple[str, str]:
    """(text, display name) of FILE or ``-`` (stdin)."""
    too_large_fix = "split the file and record the parts one by one"
    if path != "-":
        return fileio.read_text(path, limit=MAX_INPUT_BYTES, error_cls=InputError, too_large_fix=too_large_fix), path
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise fileio.read_error(fileio.FileTooLargeError("<stdin>", MAX_INPUT_BYTES), "<stdin>", InputError,
                                what="input", too_large_fix=too_large_fix)
    return fileio.decode_utf8(data, "<stdin>", InputError), "<stdin>"

