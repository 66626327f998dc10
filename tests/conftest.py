"""Test isolation: every test gets its own HOME and TIERWISE_HOME, and any
attempt to open, create or remove a file under the real home directory fails
loudly (the interpreter and its site-packages, which may live there, excepted).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_HOME = os.path.realpath(os.path.expanduser("~"))

_ALLOWED_UNDER_HOME = tuple(
    sorted(
        {
            os.path.realpath(p)
            for p in [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]
            if p and os.path.isabs(p)
        }
        | {
            # the pinned real clients used by the end-to-end tests
            os.path.realpath(os.environ.get("TIERWISE_E2E_CACHE", str(REPO_ROOT / ".e2e-cache"))),
            str(REPO_ROOT),
            os.path.realpath(os.environ.get("TMPDIR", "/tmp")),
        }
    )
)

_guard_active = False


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip(os.sep) + os.sep)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _guard_active or event not in {"open", "os.mkdir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree"}:
        return
    target = args[0] if args else None
    if isinstance(target, bytes):
        target = target.decode(errors="replace")
    if not isinstance(target, str) or not target:
        return
    path = os.path.realpath(os.path.abspath(target))
    if REAL_HOME in ("/", "") or not _under(path, REAL_HOME):
        return
    if any(_under(path, allowed) for allowed in _ALLOWED_UNDER_HOME):
        return
    raise RuntimeError(f"test touched the real home directory: {event} {path}")


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh HOME, state dir and client config dirs for each test."""
    global _guard_active
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / "tierwise-home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))
    monkeypatch.setenv("NO_COLOR", "1")
    for var in ("CLAUDE_PROJECT_DIR", "QWEN_PROJECT_DIR", "CLAUDE_PLUGIN_ROOT", "CLAUDE_PLUGIN_DATA"):
        monkeypatch.delenv(var, raising=False)
    _guard_active = True
    try:
        yield home
    finally:
        _guard_active = False


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT

