"""Shared fixtures for the hook tests: a project holding the example skill suite
(for both clients), the recorded client payloads, and helpers to run a hook
in-process (``dispatch.handle``) or as the real process (``python -m tierwise hook``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = Path(os.environ.get("TIERWISE_PAYLOADS", Path(__file__).resolve().parents[1] / "data" / "payloads"))
CLAUDE = PAYLOADS / "claude-code-2.1.197"
QWEN = PAYLOADS / "qwen-code-0.15.10"
SUITE = ["frontend-qa-coordinator", "page-component-mapper", "css-layout-debugger", "ui-bug-investigator",
         "component-fix-and-verify", "regression-test-generator"]


def recorded(client: str, name: str) -> dict[str, Any]:
    folder = CLAUDE if client == "claude" else QWEN
    path = folder / f"{name}.json"
    if not path.exists():
        pytest.skip(f"recorded payload {path} is not available")
    return json.loads(path.read_text())["stdin"]  # type: ignore[no-any-return]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "shop"
    for folder in (".claude", ".qwen"):
        shutil.copytree(REPO / "skills", proj / folder / "skills")
    monkeypatch.chdir(proj)
    return proj


@pytest.fixture
def session_home(isolated_home: Path) -> Path:
    """The client's config dir (transcripts live under it)."""
    return isolated_home


def payload(client: str, name: str, project: Path, home: Path, **changes: Any) -> dict[str, Any]:
    data = recorded(client, name)
    data["cwd"] = str(project)
    sid = data.get("session_id", "s")
    if client == "claude":
        data["transcript_path"] = str(home / ".claude" / "projects" / "-shop" / f"{sid}.jsonl")
    else:
        data["transcript_path"] = str(home / ".qwen" / "projects" / "-shop" / "chats" / f"{sid}.jsonl")
    for key, value in changes.items():
        data[key] = value
    return data


def run_hook(event: str, data: dict[str, Any] | bytes, client: str | None = None) -> dict[str, Any] | None:
    from tierwise.hot.hooks.dispatch import handle

    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    out = handle(event, raw, client)
    return None if out is None else json.loads(out)


def run_hook_process(
    event: str, data: dict[str, Any] | bytes, client: str | None = None, env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    argv = [sys.executable, "-m", "tierwise", "hook", event] + (["--client", client] if client else [])
    return subprocess.run(argv, input=raw, capture_output=True, env=env or dict(os.environ), timeout=timeout)


@pytest.fixture
def hook() -> Callable[..., dict[str, Any] | None]:
    return run_hook


@pytest.fixture
def hook_process() -> Callable[..., subprocess.CompletedProcess[bytes]]:
    return run_hook_process


@pytest.fixture
def make_payload(project: Path, isolated_home: Path) -> Callable[..., dict[str, Any]]:
    """make_payload(client, recorded_name, **changes): a recorded payload aimed at the test project."""

    def make(client: str, name: str, **changes: Any) -> dict[str, Any]:
        return payload(client, name, project, isolated_home, **changes)

    return make


@pytest.fixture
def rec() -> Callable[[str, str], dict[str, Any]]:
    return recorded
